import NetfilterModel

/// Reads `nft list ruleset` output (with or without `-a` handles) and `nft -f` scripts into the
/// model.
///
/// Equivalent to what `nft -f FILE` applies: commands run in order (`add`, `create`, `insert`,
/// `replace`, `delete`, `flush` of tables, chains, rules, sets, maps and elements; `flush ruleset`;
/// rule positions by handle or index), `define`/`redefine`/`undefine` variables are expanded, and
/// `include` reads other files relative to the including file. Tables of the ip, ip6 and inet
/// families are imported (others are skipped with a warning); flowtables, stateful objects and
/// maps are kept out of the model with a warning each.
///
/// Matches, statements and verdicts the model can hold exactly become model values; anything
/// else stays as its nft text (an opaque match, or an opaque target in the verdict's place), with
/// a warning at its file:line:col, so a rule is never dropped or widened. A verdict map on a
/// field the model tests becomes one rule per element. Counter values are ignored.
public struct NFTTextImporter: Sendable {
  /// Where `include` reads files.
  public var files: NFTIncludeFiles

  /// An importer; `files` is where `include` reads (the disk by default).
  public init(files: NFTIncludeFiles = .disk) {
    self.files = files
  }

  /// Imports `text`; locations name `file`, and `include` paths are relative to it.
  public func importRuleset(_ text: String, file: String) -> ImportedRuleset {
    var reader = NFTScriptReader(files: files, file: file)
    reader.read(text)
    return ImportedRuleset(ruleset: reader.ruleset, diagnostics: reader.diagnostics)
  }
}
