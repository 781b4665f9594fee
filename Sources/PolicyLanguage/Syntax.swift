import NetfilterModel

/// Comments and blank lines around a statement, kept so `fmt` never loses them.
public struct Trivia: Hashable, Sendable {
  /// Whole-line comments before the statement (text after `#`).
  public var leadingComments: [String] = []
  /// The source had at least one empty line before the statement (or its leading comments).
  public var blankLineBefore = false
  /// A comment on the same line, after the statement.
  public var trailingComment: String?
  public init() {}
}

/// A statement of a policy file: one line of tokens, or a block (`table ip filter { … }`).
///
/// This is the layout of the file, not its meaning: `fmt` prints it, the resolver gives it meaning.
public indirect enum SyntaxNode: Hashable, Sendable {
  case line(SyntaxLine)
  case block(SyntaxBlock)

  public var trivia: Trivia {
    get {
      switch self {
      case .line(let l): return l.trivia
      case .block(let b): return b.trivia
      }
    }
    set {
      switch self {
      case .line(var l):
        l.trivia = newValue
        self = .line(l)
      case .block(var b):
        b.trivia = newValue
        self = .block(b)
      }
    }
  }

  /// The first token (for locations).
  public var firstToken: Token {
    switch self {
    case .line(let l): return l.tokens[0]
    case .block(let b): return b.header[0]
    }
  }
}

/// A statement of tokens ended by a newline or `;`.
public struct SyntaxLine: Hashable, Sendable {
  public var tokens: [Token]
  public var trivia: Trivia
  /// Comments written inside a multi-line inline set; `fmt` prints them before the statement.
  public var innerComments: [String] = []
  public init(tokens: [Token], trivia: Trivia = Trivia()) {
    self.tokens = tokens
    self.trivia = trivia
  }
}

/// `HEADER { CHILDREN }`
public struct SyntaxBlock: Hashable, Sendable {
  public var header: [Token]
  public var children: [SyntaxNode]
  public var trivia: Trivia
  /// A comment after the opening `{`.
  public var openingComment: String?
  /// Comments after the last child, before `}`.
  public var closingComments: [String]
  public var openBrace: Token
  public init(
    header: [Token], children: [SyntaxNode], trivia: Trivia, openingComment: String?,
    closingComments: [String], openBrace: Token
  ) {
    self.header = header
    self.children = children
    self.trivia = trivia
    self.openingComment = openingComment
    self.closingComments = closingComments
    self.openBrace = openBrace
  }
}

/// A parsed policy file: its statements and the comments after the last one.
public struct SyntaxFile: Hashable, Sendable {
  public var file: String
  public var nodes: [SyntaxNode]
  public var closingComments: [String]
}
