import NetfilterModel

/// Prints a policy in canonical form: two-space indentation, one statement per line (a base
/// chain's `type …; policy …;` stays on one line), single spaces between tokens, comments and
/// single blank lines kept. Idempotent, and it never changes what a policy means.
public struct Formatter {
  /// Lines longer than this print their inline set one element per line.
  public var lineWidth = 100
  public init() {}

  /// The canonical text of `file`.
  public func format(_ file: SyntaxFile) -> String {
    var out: [String] = []
    printNodes(file.nodes, depth: 0, into: &out)
    for c in file.closingComments { out.append("#" + c) }
    return out.isEmpty ? "" : out.joined(separator: "\n") + "\n"
  }

  /// Parses and formats text; nil when the text has layout errors (unbalanced braces, bad characters).
  public func format(file: String, text: String) -> (String?, [Diagnostic]) {
    let (syntax, diagnostics) = LayoutParser.parse(file: file, text: text)
    if diagnostics.contains(where: { $0.severity == .error }) { return (nil, diagnostics) }
    return (format(syntax), diagnostics)
  }

  func indent(_ depth: Int) -> String { String(repeating: "  ", count: depth) }

  func printNodes(_ nodes: [SyntaxNode], depth: Int, into out: inout [String]) {
    var i = 0
    while i < nodes.count {
      let node = nodes[i]
      let trivia = node.trivia
      if trivia.blankLineBefore && i > 0 { out.append("") }
      for c in trivia.leadingComments { out.append(indent(depth) + "#" + c) }
      switch node {
      case .line(let line):
        var text = render(line.tokens, depth: depth)
        var trailing = trivia.trailingComment
        // `type filter hook … priority …; policy drop;` is one line, as nft writes it.
        if line.tokens.first?.isWord("type") == true && line.tokens.contains(where: { $0.isWord("hook") }) {
          text += ";"
          if i + 1 < nodes.count, case .line(let next) = nodes[i + 1],
            next.tokens.first?.isWord("policy") == true, next.trivia.leadingComments.isEmpty,
            !next.trivia.blankLineBefore, trailing == nil
          {
            text += " " + render(next.tokens, depth: depth) + ";"
            trailing = next.trivia.trailingComment
            i += 1
          }
        } else if line.tokens.first?.isWord("policy") == true {
          text += ";"
        }
        out.append(indent(depth) + text + (trailing.map { "  #" + $0 } ?? ""))
      case .block(let block):
        let header = render(block.header, depth: depth)
        out.append(indent(depth) + header + " {")
        printNodes(block.children, depth: depth + 1, into: &out)
        for c in block.closingComments { out.append(indent(depth + 1) + "#" + c) }
        out.append(indent(depth) + "}" + (trivia.trailingComment.map { "  #" + $0 } ?? ""))
      }
      i += 1
    }
  }

  /// Tokens joined by single spaces, no space before `,`; a too-long inline set wraps.
  func render(_ tokens: [Token], depth: Int) -> String {
    let flat = join(tokens)
    if indent(depth).count + flat.count <= lineWidth { return flat }
    guard let open = tokens.firstIndex(where: { $0.isPunct("{") }) else { return flat }
    // Find the matching close brace of the first inline set.
    var level = 0
    var close = open
    for j in open..<tokens.count {
      if tokens[j].isPunct("{") { level += 1 }
      if tokens[j].isPunct("}") {
        level -= 1
        if level == 0 {
          close = j
          break
        }
      }
    }
    var elements: [[Token]] = [[]]
    level = 0
    for t in tokens[(open + 1)..<close] {
      if t.isPunct("{") { level += 1 }
      if t.isPunct("}") { level -= 1 }
      if t.isPunct(",") && level == 0 {
        elements.append([])
      } else {
        elements[elements.count - 1].append(t)
      }
    }
    elements.removeAll { $0.isEmpty }
    var s = join(Array(tokens[..<open])) + (open > 0 ? " " : "") + "{\n"
    for e in elements { s += indent(depth + 1) + join(e) + ",\n" }
    s += indent(depth) + "}"
    let rest = Array(tokens[(close + 1)...])
    if !rest.isEmpty { s += " " + join(rest) }
    return s
  }

  /// Single spaces between tokens, except: none before `,`; none after a `,` outside a set
  /// (flag lists like `established,related`); none before `:PORT` glued to a `$VAR`.
  func join(_ tokens: [Token]) -> String {
    var s = ""
    var depth = 0
    for (k, t) in tokens.enumerated() {
      if k > 0 {
        let previous = tokens[k - 1]
        let glued =
          t.isPunct(",") || t.isPunct(")") || previous.isPunct("(")
          || (previous.isPunct(",") && depth == 0)
          || (t.isAttached && (t.kind == .word || t.kind == .variable)
            && (previous.kind == .word || previous.kind == .variable))
        if !glued { s += " " }
      }
      if t.isPunct("{") { depth += 1 }
      if t.isPunct("}") { depth -= 1 }
      s += t.description
    }
    return s
  }
}
