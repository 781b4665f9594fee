import NetfilterModel

/// Reads `nft list ruleset` output and `nft -f` scripts into the model.
///
/// Not built yet: this is the interface the nft text import is written against.
public struct NFTTextImporter: Sendable {
  /// An importer.
  public init() {}

  /// Imports `text`; locations name `file`, and `include` paths are relative to it.
  public func importRuleset(_ text: String, file: String) -> ImportedRuleset {
    ImportedRuleset(
      ruleset: Ruleset(),
      diagnostics: [.error("nft text import is not built yet", at: SourceLocation(file: file, line: 1, column: 1))])
  }
}
