import NetfilterModel

/// One token of nft text: a word (names, numbers, addresses, `@set`, `$var`, `:8080`), a quoted
/// string, an operator or bracket, or the end of a line.
struct NFTToken: Sendable {
  enum Kind: Sendable, Equatable {
    /// A run of characters up to a blank or an operator: `saddr`, `10.0.0.0/8`, `fe80::/10`,
    /// `1024-65535`, `@blocked`, `$lan`, `.`, `/`, `:`, `-`.
    case word
    /// `"…"`; `text` is the content without the quotes (nft has no escapes in strings).
    case string
    /// `{ } ( ) ; , = == != < > <= >= << >> & | ^ !`
    case punctuation
    /// The end of a line: a separator, like `;`, outside braces and parentheses.
    case newline
  }

  var kind: Kind
  var text: String
  var location: SourceLocation
  /// Whether blanks came before it on its line: opaque text is rebuilt with the source's spacing.
  var spaceBefore: Bool
  /// `N` of a `# handle N` comment after it on its line (`nft -a list ruleset`).
  var handle: Int?

  func isWord(_ word: String) -> Bool { kind == .word && text == word }
  func isPunct(_ punct: String) -> Bool { kind == .punctuation && text == punct }
  /// A `;` or a line end.
  var isSeparator: Bool { kind == .newline || isPunct(";") }

  /// The token as nft reads it: strings quoted again.
  var source: String { kind == .string ? "\"" + text + "\"" : text }
}

extension Array where Element == NFTToken {
  /// The tokens as nft text, with the blanks of the source between them (one blank where there
  /// were several or a line break inside braces).
  var nftText: String {
    var out = ""
    for (k, token) in enumerated() where token.kind != .newline {
      if k > 0 && (token.spaceBefore || self[k - 1].kind == .newline) && !out.isEmpty { out += " " }
      out += token.source
    }
    return out
  }
}
