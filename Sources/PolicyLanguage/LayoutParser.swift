import NetfilterModel

/// Groups tokens into statements and blocks. A line whose first word opens a block
/// (`table`, `chain`, `set`, `topology`, `firewall`) takes a `{ … }` body; any other `{ … }`
/// is an inline set and may span lines.
public struct LayoutParser {
  /// Words that start a block statement.
  public static let blockKeywords: Set<String> = ["table", "chain", "set", "topology", "firewall"]

  var tokens: [Token]
  var index = 0
  var diagnostics: [Diagnostic] = []
  let file: String

  /// Lexes and lays out `text`.
  public static func parse(file: String, text: String) -> (SyntaxFile, [Diagnostic]) {
    let (tokens, lexDiagnostics) = Lexer(file: file, text: text).tokenize()
    var parser = LayoutParser(tokens: tokens, file: file)
    let (nodes, closing) = parser.parseNodes(opener: nil)
    return (
      SyntaxFile(file: file, nodes: nodes, closingComments: closing),
      lexDiagnostics + parser.diagnostics
    )
  }

  init(tokens: [Token], file: String) {
    self.tokens = tokens
    self.file = file
  }

  var current: Token? { index < tokens.count ? tokens[index] : nil }

  mutating func parseNodes(opener: Token?) -> ([SyntaxNode], [String]) {
    var nodes: [SyntaxNode] = []
    var pendingComments: [String] = []
    var newlines = 0
    var sawBlank = false
    var lastLine = opener?.location.line ?? -1
    var openingComment: String?
    while let token = current {
      switch token.kind {
      case .newline:
        newlines += 1
        if newlines >= 2 && (!nodes.isEmpty || !pendingComments.isEmpty) { sawBlank = true }
        index += 1
        continue
      case .comment:
        if token.location.line == lastLine {
          if nodes.isEmpty && pendingComments.isEmpty && opener != nil {
            openingComment = token.text
          } else if !nodes.isEmpty {
            nodes[nodes.count - 1].trivia.trailingComment = token.text
          } else {
            pendingComments.append(token.text)
          }
        } else {
          if pendingComments.isEmpty && sawBlank == false && newlines >= 2 && !nodes.isEmpty {
            sawBlank = true
          }
          pendingComments.append(token.text)
        }
        newlines = 0
        index += 1
        continue
      case .punctuation where token.text == ";":
        index += 1
        continue
      case .punctuation where token.text == "}":
        index += 1
        if opener == nil {
          diagnostics.append(.error("unexpected '}' with no open block", at: token.location))
          continue
        }
        if let openingComment {
          if var first = nodes.first {
            first.trivia.leadingComments.insert(openingComment, at: 0)
            nodes[0] = first
          } else {
            pendingComments.insert(openingComment, at: 0)
          }
        }
        return (nodes, pendingComments)
      default:
        break
      }
      var trivia = Trivia()
      trivia.leadingComments = pendingComments
      trivia.blankLineBefore = sawBlank && !nodes.isEmpty
      pendingComments = []
      sawBlank = false
      newlines = 0
      var node = parseStatement()
      let leading = trivia.leadingComments
      var merged = trivia
      if case .line(let l) = node { merged.leadingComments = leading + l.innerComments }
      node.trivia = mergeTrivia(merged, node.trivia)
      nodes.append(node)
      lastLine = tokens[max(index - 1, 0)].location.line
    }
    if let opener {
      diagnostics.append(
        .error(
          "expected '}' before end of file",
          at: SourceLocation(file: file, line: (tokens.last?.location.line ?? 1), column: 1),
          notes: [.init("to close the block opened here", at: opener.location)]))
    }
    if let openingComment, var first = nodes.first {
      first.trivia.leadingComments.insert(openingComment, at: 0)
      nodes[0] = first
    }
    return (nodes, pendingComments)
  }

  func mergeTrivia(_ outer: Trivia, _ inner: Trivia) -> Trivia {
    var t = outer
    if t.trailingComment == nil { t.trailingComment = inner.trailingComment }
    return t
  }

  /// Reads one statement: tokens up to a newline or `;` (outside inline braces), or a block.
  mutating func parseStatement() -> SyntaxNode {
    var lineTokens: [Token] = []
    var innerComments: [String] = []
    var depth = 0
    var openInline: [Token] = []
    let opensBlock = current.map { $0.kind == .word && LayoutParser.blockKeywords.contains($0.text) } ?? false
    while let token = current {
      if depth == 0 {
        // `table ip filter` + newline + `{`: the brace on its own line still opens the block.
        if token.kind == .newline && opensBlock && !lineTokens.isEmpty {
          var look = index
          while look < tokens.count && tokens[look].kind == .newline { look += 1 }
          if look < tokens.count && tokens[look].isPunct("{") {
            index = look
            continue
          }
        }
        if token.kind == .newline || token.isPunct(";") { break }
        if token.kind == .comment { break }
        if token.isPunct("}") { break }
        if token.isPunct("{") && opensBlock {
          index += 1
          let (children, closing) = parseNodes(opener: token)
          var block = SyntaxBlock(
            header: lineTokens, children: children, trivia: Trivia(), openingComment: nil,
            closingComments: closing, openBrace: token)
          // The opening comment was folded into the first child's leading comments by parseNodes,
          // unless the block is empty.
          if children.isEmpty, closing.isEmpty == false { block.closingComments = closing }
          return .block(block)
        }
      }
      switch token.kind {
      case .newline:
        index += 1
        continue
      case .comment:
        innerComments.append(token.text)
        index += 1
        continue
      default:
        break
      }
      if token.isPunct("{") {
        depth += 1
        openInline.append(token)
      } else if token.isPunct("}") {
        depth -= 1
        openInline.removeLast()
      }
      lineTokens.append(token)
      index += 1
    }
    if depth > 0, let open = openInline.last {
      diagnostics.append(.error("expected '}' to close this set", at: open.location))
    }
    var line = SyntaxLine(tokens: lineTokens)
    line.innerComments = innerComments
    return .line(line)
  }
}
