import NetfilterModel

/// Splits nft text into tokens, as nft's scanner does: `#` comments to the end of the line
/// (`# handle N` is kept on the token before it), `\` before a line break joins lines, blanks
/// separate words, and the operators and brackets are tokens of their own.
struct NFTLexer {
  let file: String
  let bytes: [UInt8]
  var tokens: [NFTToken] = []
  var diagnostics: [Diagnostic] = []

  init(_ text: String, file: String) {
    self.file = file
    self.bytes = Array(text.utf8)
  }

  /// The tokens of `text` and the errors (an unterminated string).
  static func tokenize(_ text: String, file: String) -> ([NFTToken], [Diagnostic]) {
    var lexer = NFTLexer(text, file: file)
    lexer.run()
    return (lexer.tokens, lexer.diagnostics)
  }

  /// Bytes that end a word (besides blanks): brackets, separators, quotes and operators.
  static let delimiters: [Bool] = {
    var table = [Bool](repeating: false, count: 256)
    for b in "{}();,\"#=!<>&|^".utf8 { table[Int(b)] = true }
    return table
  }()
  /// Bytes that end a word: the delimiters and blanks.
  static let wordEnds: [Bool] = {
    var table = delimiters
    for b in " \t\r\n".utf8 { table[Int(b)] = true }
    return table
  }()

  mutating func run() {
    var i = 0
    var line = 1
    var lineStart = 0
    var space = true
    let n = bytes.count
    func location(_ at: Int) -> SourceLocation {
      SourceLocation(file: file, line: line, column: at - lineStart + 1)
    }
    while i < n {
      let c = bytes[i]
      switch c {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
        space = true
        i += 1
      case UInt8(ascii: "\n"):
        tokens.append(NFTToken(kind: .newline, text: "\n", location: location(i), spaceBefore: space))
        i += 1
        line += 1
        lineStart = i
        space = true
      case UInt8(ascii: "\\")
      where i + 1 < n && (bytes[i + 1] == UInt8(ascii: "\n") || bytes[i + 1] == UInt8(ascii: "\r")):
        // A continued line.
        i += 1
        if bytes[i] == UInt8(ascii: "\r") { i += 1 }
        if i < n && bytes[i] == UInt8(ascii: "\n") { i += 1 }
        line += 1
        lineStart = i
        space = true
      case UInt8(ascii: "#"):
        let start = i
        while i < n && bytes[i] != UInt8(ascii: "\n") { i += 1 }
        if let handle = Self.handle(bytes[(start + 1)..<i]), !tokens.isEmpty, tokens[tokens.count - 1].kind != .newline
        {
          tokens[tokens.count - 1].handle = handle
        }
      case UInt8(ascii: "\""):
        let start = i
        i += 1
        while i < n && bytes[i] != UInt8(ascii: "\"") && bytes[i] != UInt8(ascii: "\n") { i += 1 }
        let text = String(decoding: bytes[(start + 1)..<i], as: UTF8.self)
        tokens.append(NFTToken(kind: .string, text: text, location: location(start), spaceBefore: space))
        // An unterminated string ends at the line's end (so only it is reported).
        guard i < n && bytes[i] == UInt8(ascii: "\"") else {
          diagnostics.append(.error("unterminated string", at: location(start)))
          continue
        }
        i += 1
        space = false
      case _ where Self.delimiters[Int(c)]:
        var length = 1
        if i + 1 < n {
          let pair = (c, bytes[i + 1])
          switch pair {
          case (UInt8(ascii: "="), UInt8(ascii: "=")), (UInt8(ascii: "!"), UInt8(ascii: "=")),
            (UInt8(ascii: "<"), UInt8(ascii: "=")), (UInt8(ascii: ">"), UInt8(ascii: "=")),
            (UInt8(ascii: "<"), UInt8(ascii: "<")), (UInt8(ascii: ">"), UInt8(ascii: ">")):
            length = 2
          default: break
          }
        }
        let text = String(decoding: bytes[i..<(i + length)], as: UTF8.self)
        tokens.append(NFTToken(kind: .punctuation, text: text, location: location(i), spaceBefore: space))
        i += length
        space = false
      default:
        let start = i
        while i < n {
          let b = bytes[i]
          if Self.wordEnds[Int(b)] { break }
          if b == UInt8(ascii: "\\") && i + 1 < n && (bytes[i + 1] == UInt8(ascii: "\n")) { break }
          i += 1
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        tokens.append(NFTToken(kind: .word, text: text, location: location(start), spaceBefore: space))
        space = false
      }
    }
  }

  /// `N` for a comment ` handle N` (the text after `#`).
  static func handle(_ comment: ArraySlice<UInt8>) -> Int? {
    let words = comment.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
    guard words.count == 2, words[0].elementsEqual("handle".utf8) else { return nil }
    return Int(String(decoding: words[1], as: UTF8.self))
  }
}
