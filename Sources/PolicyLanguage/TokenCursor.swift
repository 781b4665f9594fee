import NetfilterModel

/// Reads the tokens of one statement, front to back; errors carry the location of the offending token.
struct TokenCursor {
  let tokens: [Token]
  var index = 0
  /// Where "expected …" points when the statement ended too early.
  let endLocation: SourceLocation

  init(_ tokens: [Token]) {
    self.tokens = tokens
    if let last = tokens.last {
      var end = last.location
      end.column += last.description.utf8.count
      endLocation = end
    } else {
      endLocation = .unknown
    }
  }

  var atEnd: Bool { index >= tokens.count }
  var peek: Token? { atEnd ? nil : tokens[index] }
  func peek(_ offset: Int) -> Token? {
    index + offset < tokens.count ? tokens[index + offset] : nil
  }
  /// Location of the next token, or just past the statement.
  var location: SourceLocation { peek?.location ?? endLocation }

  mutating func next() -> Token? {
    defer { index += 1 }
    return peek
  }

  /// Consumes the word `w` if it is next.
  mutating func accept(word w: String) -> Bool {
    if peek?.isWord(w) == true {
      index += 1
      return true
    }
    return false
  }

  /// Consumes punctuation `p` if it is next.
  mutating func accept(punct p: String) -> Bool {
    if peek?.isPunct(p) == true {
      index += 1
      return true
    }
    return false
  }

  /// The next token, which must be a bare word.
  mutating func expectWord(_ what: String) throws -> Token {
    guard let t = peek, t.kind == .word else {
      throw Diagnostic.error("expected \(what)\(foundDescription)", at: location)
    }
    index += 1
    return t
  }

  /// The next token, which must be the word `w`.
  mutating func expect(word w: String, context: String = "") throws {
    guard accept(word: w) else {
      throw Diagnostic.error("expected '\(w)'\(context)\(foundDescription)", at: location)
    }
  }

  /// The next token, a word or a string (names may be quoted).
  mutating func expectName(_ what: String) throws -> Token {
    guard let t = peek, t.kind == .word || t.kind == .string else {
      throw Diagnostic.error("expected \(what)\(foundDescription)", at: location)
    }
    index += 1
    return t
  }

  /// `, found 'x'` or `` at the end of the statement.
  var foundDescription: String {
    guard let t = peek else { return " at end of statement" }
    return ", found '\(t.description)'"
  }
}
