// IndexedDB for `key.rs`: the browser's API of requests and events, awaited here as promises.

const DATABASE = 'mamori';
const STORE = 'device-keys';

// `method(...args)` on the object store, in a `readwrite` transaction of its own (one path for
// reads and writes); resolves to the request's result once the transaction has committed.
// Rejects when IndexedDB is missing or fails, or when opening and committing take more than
// `limit` milliseconds together, so a wedged database cannot stall the checkout.
export async function exchange(method, args, limit) {
  const deadline = Date.now() + limit;
  // Resolves when `target` (a request or a transaction) fires `handler`'s event; rejects on
  // `error`, `abort` or the deadline. A settled promise ignores the calls that come later.
  const done = (target, handler) =>
    new Promise((resolve, reject) => {
      target[handler] = resolve;
      target.onerror = reject;
      target.onabort = reject;
      setTimeout(reject, deadline - Date.now());
    });
  // `indexedDB`'s getter throws where site data is blocked: the promise rejects.
  const opening = indexedDB.open(DATABASE, 1);
  // The object store is made on first use.
  opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
  try {
    await done(opening, 'onsuccess');
  } finally {
    opening.onupgradeneeded = null;
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
