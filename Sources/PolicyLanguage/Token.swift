import NetfilterModel

/// One lexical token of a policy file.
public struct Token: Hashable, Sendable, CustomStringConvertible {
  public enum Kind: Hashable, Sendable {
    /// A bare word: keyword, name, number, address, `1000-2000`, `veth*`.
    case word
    /// A double-quoted string; `text` holds the unescaped contents.
    case string
    /// `$NAME`; `text` holds NAME.
    case variable
    /// `@NAME`; `text` holds NAME.
    case setReference
    /// `{ } ( ) , ; = == != & | + /`
    case punctuation
    /// `# …`; `text` holds what follows the `#`.
    case comment
    /// End of a line.
    case newline
  }
  public var kind: Kind
  public var text: String
  public var location: SourceLocation
  /// True when the token directly follows the previous one with no space (`$HOST:80`).
  public var isAttached = false

  public init(_ kind: Kind, _ text: String, at location: SourceLocation) {
    self.kind = kind
    self.text = text
    self.location = location
  }

  /// True for punctuation `p`.
  public func isPunct(_ p: String) -> Bool { kind == .punctuation && text == p }
  /// True for the bare word `w`.
  public func isWord(_ w: String) -> Bool { kind == .word && text == w }

  /// The token as it is written in a policy file.
  public var description: String {
    switch kind {
    case .word, .punctuation: return text
    case .string: return Token.quote(text)
    case .variable: return "$" + text
    case .setReference: return "@" + text
    case .comment: return "#" + text
    case .newline: return "\n"
    }
  }

  /// A string literal with `"` and `\` escaped.
  public static func quote(_ s: String) -> String {
    var out = "\""
    for c in s {
      if c == "\"" || c == "\\" { out.append("\\") }
      out.append(c)
    }
    return out + "\""
  }
}
