// A node test reporter that names every test file which declared no test.
//
// node's runner reports a file without tests as one passing test named after the file, so an
// emptied file (or one whose tests a refactoring lost) would count as a pass. For each such
// file this prints `# empty file <path>` on its destination; `cargo xtask test` fails a suite
// that prints one.

export default async function* emptyFiles(source) {
  const declared = new Map();
  for await (const event of source) {
    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || event.data.nesting !== 0) {
      continue;
    }
    const { file, name } = event.data;
    if (!file) continue;
    // The file's stand-in test carries the file's own path as its name.
    const real = name !== file;
    declared.set(file, (declared.get(file) ?? 0) + (real ? 1 : 0));
  }
  for (const [file, tests] of declared) {
    if (tests === 0) yield `# empty file ${file}\n`;
  }
}
