import NetfilterModel

/// One word of an iptables-save line, with the 1-based byte column it starts at.
struct SaveToken: Hashable, Sendable {
  var text: String
  var column: Int
  /// True when the word was (partly) in double quotes: then it is a value, never an option.
  var quoted: Bool
  /// Byte offsets of the word in its line (for keeping an opaque match's text as written).
  var start: Int
  var end: Int

  /// `--dport`, `-j`: an option rather than a value.
  var isOption: Bool { !quoted && text.hasPrefix("-") && text.count > 1 }
  var isBang: Bool { !quoted && text == "!" }
}

/// Splits an iptables-save line into words the way `iptables-restore` does (its
/// `add_param_to_argv`): blanks separate words, double quotes group, a backslash escapes the next
/// character.
enum SaveLineTokenizer {
  /// The words of `line`, or the 1-based column of an unterminated quote.
  static func tokenize(_ line: String) -> Result<[SaveToken], UnterminatedQuote> {
    var tokens: [SaveToken] = []
    let bytes = Array(line.utf8)
    var i = 0
    while i < bytes.count {
      if bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") || bytes[i] == UInt8(ascii: "\r") {
        i += 1
        continue
      }
      let start = i
      var word: [UInt8] = []
      var quoted = false
      var inQuote = false
      var quoteStart = 0
      while i < bytes.count {
        let c = bytes[i]
        if !inQuote && (c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r")) { break }
        if c == UInt8(ascii: "\\") && i + 1 < bytes.count {
          word.append(bytes[i + 1])
          i += 2
          continue
        }
        if c == UInt8(ascii: "\"") {
          if !inQuote { quoteStart = i }
          inQuote.toggle()
          quoted = true
          i += 1
          continue
        }
        word.append(c)
        i += 1
      }
      if inQuote { return .failure(UnterminatedQuote(column: quoteStart + 1)) }
      tokens.append(
        SaveToken(
          text: String(decoding: word, as: UTF8.self), column: start + 1, quoted: quoted, start: start, end: i))
    }
    return .success(tokens)
  }

  /// A quote that the line never closes.
  struct UnterminatedQuote: Error {
    var column: Int
  }
}
