import NetfilterModel

/// Compiles a ruleset to nft script text in the exact form `nft list ruleset` prints it back,
/// so loading the script and listing the kernel shows the same text (counters aside).
///
/// Equivalent to writing the tables by hand and running `nft -f FILE`: the whole file is one
/// transaction, and the script first deletes the tables it declares so re-running it replaces them.
public struct NFTScript {
  public init() {}

  /// Everything the nft backend cannot express, each at its policy line.
  public func unsupported(_ ruleset: Ruleset) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    for table in ruleset.tables {
      if !table.family.isIP {
        diagnostics.append(
          .error(
            "the nft backend of Firebreak supports the ip, ip6 and inet families; \(table.family.rawValue) tables are not supported yet",
            at: table.location))
        continue
      }
      for (kind, name, location) in [("table", table.name, table.location)]
        + table.sets.map({ ("set", $0.name, $0.location) })
      where !NFTSyntax.isIdentifier(name) {
        diagnostics.append(.error("nft cannot name a \(kind) '\(name)'", at: location))
      }
      for chain in table.chains {
        if !NFTSyntax.isIdentifier(chain.name) {
          diagnostics.append(
            .error(
              "nft cannot name a chain '\(chain.name)' (a name is a letter, '_' or '.' then letters, digits and '/-_.'); use --backend iptables or rename it",
              at: chain.location))
        }
        for rule in chain.rules {
          if let empty = rule.emptinessError { diagnostics.append(empty) }
          for text in Self.quotedStrings(rule) where text.contains("\"") {
            diagnostics.append(
              .error(
                "nft cannot load a string containing '\"' (\(NFTSyntax.quote(text))); use --backend iptables",
                at: rule.location))
          }
          for m in rule.matches {
            if case .bridgePort = m.kind {
              diagnostics.append(
                .error(
                  "nftables has no bridge-port (physdev) match in the \(table.family.rawValue) family; use --backend iptables or match the bridge with iifname",
                  at: m.location))
            }
            if case .opaque(let opaque) = m.kind, opaque.syntax != .nft {
              diagnostics.append(
                .error("cannot express in nft: \(opaque.syntax.rawValue) match '\(opaque.text)'", at: m.location))
            }
          }
          for (text, location) in rule.opaqueParts(.nft) {
            if let problem = OpaqueMatch.nftTextProblem(text) {
              diagnostics.append(.error("nft part '\(text)': \(problem)", at: location))
            }
          }
          if case .opaque(let target) = rule.verdict, target.syntax != .nft {
            diagnostics.append(
              .error(
                "cannot express in nft: \(target.syntax.rawValue) target '\(target.text)'", at: rule.verdictLocation))
          }
        }
      }
    }
    return diagnostics
  }

  /// The strings nft would read quoted in a rule: its comment, log prefix and interface names.
  static func quotedStrings(_ rule: Rule) -> [String] {
    var strings = rule.comment.map { [$0] } ?? []
    for statement in rule.statements {
      if case .log(let prefix?, _) = statement.kind { strings.append(prefix) }
    }
    for match in rule.matches {
      switch match.kind {
      case .interface(_, let operand): strings += operand.inlineElements.map(\.name)
      case .bridgePort(_, let port): strings.append(port.name)
      case .interfaceIndex(_, let operand): strings += operand.inlineElements
      default: break
      }
    }
    return strings
  }

  /// The script: a header, a delete of each declared table (created first so the delete cannot
  /// fail), then the tables as `nft list ruleset` shows them.
  public func compile(_ ruleset: Ruleset, source: String? = nil) throws -> String {
    let problems = unsupported(ruleset)
    if !problems.isEmpty { throw DiagnosticList(problems) }
    var out = "#!/usr/sbin/nft -f\n"
    if let source { out += "# Compiled by firebreak from \(source). Load with: nft -f FILE\n" }
    for table in ruleset.tables {
      out += "table \(table.family.rawValue) \(table.name)\n"
      out += "delete table \(table.family.rawValue) \(table.name)\n"
    }
    return out + listing(ruleset)
  }

  /// What a rule's comment says: its origin in the policy (compiled output), or only the user's
  /// own comment (a policy printed from a model, such as an imported ruleset).
  public enum Comments: Sendable {
    case origin, userOnly
  }

  /// The tables as `nft list ruleset` prints them (tabs, sets before chains, blank line between);
  /// `dialect` `.policy` wraps opaque nft parts as a policy file writes them.
  public func listing(_ ruleset: Ruleset, comments: Comments = .origin, dialect: NFTSyntax.Dialect = .nft) -> String {
    var out = ""
    for table in ruleset.tables {
      out += "table \(table.family.rawValue) \(table.name) {\n"
      var blocks: [String] = []
      for set in table.sets { blocks.append(render(set)) }
      for chain in table.chains { blocks.append(render(chain, in: table, comments: comments, dialect: dialect)) }
      out += blocks.joined(separator: "\n")
      out += "}\n"
    }
    return out
  }

  func render(_ set: NamedSet) -> String {
    var s = "\tset \(set.name) {\n\t\ttype \(set.type.rawValue)\n"
    if set.needsInterval { s += "\t\tflags interval\n" }
    if !set.elements.isEmpty {
      s += "\t\telements = { " + sortedElements(set.elements).joined(separator: ", ") + " }\n"
    }
    return s + "\t}\n"
  }

  func sortedElements(_ elements: [SetElement]) -> [String] {
    let addresses = elements.compactMap { e -> AddressElement? in
      if case .address(let a) = e { return a }
      return nil
    }
    if !addresses.isEmpty { return addresses.sorted().map(\.description) }
    return elements.map { e -> (String, Int) in
      switch e {
      case .port(let p): return (p.description, Int(p.first))
      case .proto(let p): return (ProtocolNames.protocolName(p), Int(p))
      case .interface(let i): return ("\"\(i)\"", 0)
      case .ether(let m): return (m.description, 0)
      case .address(let a): return (a.description, 0)
      }
    }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
  }

  func render(_ chain: Chain, in table: Table, comments: Comments, dialect: NFTSyntax.Dialect) -> String {
    var s = "\tchain \(NFTSyntax.chainName(chain.name, dialect: dialect)) {\n"
    if let base = chain.base {
      s += "\t\ttype \(base.type.rawValue) hook \(base.hook.rawValue)"
      if let device = base.device { s += " device \"\(device)\"" }
      s += " priority \(priorityText(base.priority.value, hook: base.hook)); policy \(base.policy.rawValue);\n"
    }
    for rule in chain.rules {
      let comment = comments == .origin ? NFTSyntax.originComment(rule) : rule.comment
      s += "\t\t" + NFTSyntax.rule(rule, family: table.family, comment: comment, dialect: dialect) + "\n"
    }
    return s + "\t}\n"
  }

  /// nft prints a priority as a standard name (± up to 10) when the name is valid on the hook.
  public func priorityText(_ value: Int, hook: Hook) -> String {
    for name in Priority.Name.allCases where name.isValid(on: hook) && abs(value - name.value) <= 10 {
      return Priority(name: name, offset: value - name.value).description
    }
    return String(value)
  }

}
