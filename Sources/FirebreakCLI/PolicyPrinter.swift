import NFTablesBackend
import NetfilterModel
import PolicyLanguage

/// Prints a model as a policy file, in canonical form: what `firebreak import` writes. The policy
/// language reads nft's listing form, so the tables are written as nft lists them (with the
/// rules' own comments, not their origin) and then formatted canonically.
enum PolicyPrinter {
  /// The policy text, or the diagnostics if the printed text does not read back (a construct the
  /// policy language cannot say).
  static func print(_ ruleset: Ruleset, header: [String]) -> (String?, [Diagnostic]) {
    let body = NFTScript().listing(ruleset, comments: .userOnly, dialect: .policy)
    let text = header.map { "# " + $0 }.joined(separator: "\n") + (header.isEmpty ? "" : "\n\n") + body
    return Formatter().format(file: "imported.policy", text: text)
  }
}
