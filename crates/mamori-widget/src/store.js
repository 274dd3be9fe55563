// IndexedDB for the device key (`device.js`): the browser's API of requests and events, awaited
// here as promises.

const DATABASE = 'mamori';
const STORE = 'device-keys';

// `method(...args)` on the object store, in a `readwrite` transaction of its own (one path for
// reads and writes); resolves to the request's result once the transaction has committed.
// Rejects when IndexedDB is missing or fails, or when opening and committing take more than
// `limit` milliseconds together, so a wedged database cannot stall the checkout.
export async function exchange(method, args, limit) {
  const deadline = Date.now() + limit;
  // Resolves when `target` (a request or a transaction) fires `handler`'s event; rejects on
  // `error`, `abort` or the deadline, whose timer goes as soon as the promise settles.
  const done = (target, handler) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(reject, deadline - Date.now());
      const settle = (end) => (event) => {
        clearTimeout(timer);
        end(event);
      };
      target[handler] = settle(resolve);
      target.onerror = settle(reject);
      target.onabort = settle(reject);
    });
  // `indexedDB`'s getter throws where site data is blocked: the promise rejects.
  const opening = indexedDB.open(DATABASE, 1);
  // The object store is made on first use, even by an opening that ends after the deadline:
  // a database created without it would refuse every later exchange.
  opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
  try {
    await done(opening, 'onsuccess');
  } catch (refused) {
    // A database that opens after the deadline is closed then, not left open in the page.
    opening.onsuccess = () => opening.result.close();
    throw refused;
  }
  const database = opening.result;
  try {
    const request = database.transaction(STORE, 'readwrite').objectStore(STORE)[method](...args);
    await done(request.transaction, 'oncomplete');
    return request.result;
  } finally {
    database.close();
  }
}
