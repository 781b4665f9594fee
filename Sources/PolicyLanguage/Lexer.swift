import NetfilterModel

/// Splits policy text into tokens. Whitespace separates tokens; newlines and comments are kept
/// so the layout parser can separate statements and `fmt` can keep comments.
public struct Lexer {
  let file: String
  let bytes: [UInt8]

  public init(file: String, text: String) {
    self.file = file
    self.bytes = Array(text.utf8)
  }

  static func isWordByte(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"):
      return true
    case UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "/"),
      UInt8(ascii: "-"), UInt8(ascii: "*"):
      return true
    default:
      return b >= 0x80  // UTF-8 in names is refused later with a located message, not here
    }
  }

  /// Bytes of a `$variable` or `@set` name: letters, digits, `_` (so `$HOST:80` works).
  static func isNameByte(_ b: UInt8) -> Bool {
    switch b {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
      return true
    default:
      return false
    }
  }

  /// The tokens, and a diagnostic for every character that cannot start a token.
  public func tokenize() -> (tokens: [Token], diagnostics: [Diagnostic]) {
    var tokens: [Token] = []
    var diagnostics: [Diagnostic] = []
    var i = 0
    // A UTF-8 byte order mark is not part of the text.
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
    var line = 1
    var lineStart = i
    func location(_ at: Int) -> SourceLocation {
      SourceLocation(file: file, line: line, column: at - lineStart + 1)
    }
    func text(_ from: Int, _ to: Int) -> String {
      String(decoding: bytes[from..<to], as: UTF8.self)
    }
    while i < bytes.count {
      let b = bytes[i]
      switch b {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
        i += 1
      case UInt8(ascii: "\n"):
        tokens.append(Token(.newline, "", at: location(i)))
        i += 1
        line += 1
        lineStart = i
      case UInt8(ascii: "#"):
        let start = i
        while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { i += 1 }
        var body = text(start + 1, i)
        while body.last == " " || body.last == "\t" || body.last == "\r" { body.removeLast() }
        tokens.append(Token(.comment, body, at: location(start)))
      case UInt8(ascii: "\""):
        let start = i
        i += 1
        var value: [UInt8] = []
        var closed = false
        while i < bytes.count && bytes[i] != UInt8(ascii: "\n") {
          if bytes[i] == UInt8(ascii: "\\") && i + 1 < bytes.count && bytes[i + 1] != UInt8(ascii: "\n") {
            value.append(bytes[i + 1])
            i += 2
            continue
          }
          if bytes[i] == UInt8(ascii: "\"") {
            closed = true
            i += 1
            break
          }
          value.append(bytes[i])
          i += 1
        }
        if !closed {
          diagnostics.append(.error("unterminated string", at: location(start)))
        }
        tokens.append(Token(.string, String(decoding: value, as: UTF8.self), at: location(start)))
      case UInt8(ascii: "$"), UInt8(ascii: "@"):
        let start = i
        i += 1
        while i < bytes.count && Lexer.isNameByte(bytes[i]) { i += 1 }
        let name = text(start + 1, i)
        if name.isEmpty {
          diagnostics.append(
            .error("expected a name after '\(b == UInt8(ascii: "$") ? "$" : "@")'", at: location(start)))
        }
        tokens.append(Token(b == UInt8(ascii: "$") ? .variable : .setReference, name, at: location(start)))
      case UInt8(ascii: "="), UInt8(ascii: "!"):
        let start = i
        if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "=") {
          tokens.append(Token(.punctuation, b == UInt8(ascii: "=") ? "==" : "!=", at: location(start)))
          i += 2
        } else if b == UInt8(ascii: "=") {
          tokens.append(Token(.punctuation, "=", at: location(start)))
          i += 1
        } else {
          diagnostics.append(.error("'!' must be written '!=' (e.g. ip saddr != 10.0.0.0/8)", at: location(start)))
          i += 1
        }
      case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "("), UInt8(ascii: ")"),
        UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: "+"):
        tokens.append(Token(.punctuation, String(UnicodeScalar(b)), at: location(i)))
        i += 1
      default:
        if Lexer.isWordByte(b) {
          let start = i
          while i < bytes.count && Lexer.isWordByte(bytes[i]) { i += 1 }
          tokens.append(Token(.word, text(start, i), at: location(start)))
        } else {
          diagnostics.append(.error("unexpected character '\(UnicodeScalar(b))'", at: location(i)))
          i += 1
        }
      }
    }
    // Mark tokens written directly after the previous one (`$HOST:80`), so fmt keeps them together.
    var lineStarts = [bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0]
    for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") { lineStarts.append(offset + 1) }
    for k in tokens.indices where k > 0 && tokens[k].kind != .newline && tokens[k - 1].kind != .newline {
      let start = lineStarts[tokens[k].location.line - 1] + tokens[k].location.column - 1
      if start > 0 {
        let before = bytes[start - 1]
        tokens[k].isAttached =
          before != UInt8(ascii: " ") && before != UInt8(ascii: "\t") && before != UInt8(ascii: "\r")
      }
    }
    return (tokens, diagnostics)
  }
}
