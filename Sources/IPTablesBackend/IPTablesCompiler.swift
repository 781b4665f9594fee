import NetfilterModel

/// Compiles a namespace's ruleset into `iptables-restore` / `ip6tables-restore` input.
///
/// Equivalent to writing the rules by hand for `iptables-restore`: every table the policy
/// declares becomes one `*table … COMMIT` block with all its builtin chains, so loading the text
/// replaces those tables whole. Anything iptables cannot express exactly is rejected at its
/// policy line; the compiler never emits a rule that matches more or fewer packets than the
/// policy says.
public struct IPTablesCompiler {
  /// True (the default) to give every rule a comment naming its policy line (`lab.policy:17`);
  /// false to keep only the rule's own comment, as for a ruleset imported from `iptables-save`
  /// (then compiling it lists back like the original dump).
  public var originComments: Bool

  /// Creates a compiler.
  public init(originComments: Bool = true) {
    self.originComments = originComments
  }

  /// A policy table and the iptables table it becomes.
  struct Source {
    var table: Table
    var builtin: BuiltinTable
  }

  /// Compiles one namespace's ruleset.
  ///
  /// Throws a `DiagnosticList` with every error, each at the policy line it is about.
  public func compile(_ ruleset: Ruleset) throws -> IPTablesOutput {
    var diagnostics: [Diagnostic] = []
    var sources: [Source] = []
    for table in ruleset.tables {
      guard table.family.isIP else {
        diagnostics.append(
          .error(
            "iptables backend does not support family \(table.family.rawValue); use --backend nft", at: table.location))
        continue
      }
      guard let builtin = BuiltinTable.named(table.name) else {
        diagnostics.append(
          .error(
            "iptables has no table '\(table.name)' (only filter, nat, mangle, raw, security); use --backend nft",
            at: table.location))
        continue
      }
      diagnostics += checkChains(table, builtin)
      sources.append(Source(table: table, builtin: builtin))
    }

    var texts: [IPVersion: String] = [:]
    for version in [IPVersion.v4, .v6] {
      var blocks: [String] = []
      for builtin in BuiltinTable.all {
        let parts = sources.filter { $0.builtin == builtin && $0.table.family.ipVersions.contains(version) }
        guard !parts.isEmpty else { continue }
        let (block, problems) = render(builtin, parts.map(\.table), version: version)
        blocks.append(block)
        diagnostics += problems
      }
      if !blocks.isEmpty { texts[version] = blocks.joined() }
    }

    // An inet rule is translated for both versions; report its problems once.
    var seen = Set<Diagnostic>()
    diagnostics = diagnostics.filter { seen.insert($0).inserted }
    if !diagnostics.isEmpty { throw DiagnosticList(diagnostics) }
    return IPTablesOutput(ipv4: texts[.v4], ipv6: texts[.v6])
  }

  /// Checks that the table's chains are ones iptables has: builtin chains named, typed and
  /// prioritised as the table fixes them, regular chains with names iptables accepts.
  func checkChains(_ table: Table, _ builtin: BuiltinTable) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    var hooksSeen: [Hook: String] = [:]
    for chain in table.chains {
      guard let base = chain.base else {
        if let problem = Self.chainNameProblem(chain.name) {
          diagnostics.append(.error(problem, at: chain.location))
        }
        continue
      }
      guard builtin.hooks.contains(base.hook) else {
        let list = builtin.hooks.map(\.builtinChainName).joined(separator: " ")
        diagnostics.append(
          .error(
            "iptables table \(builtin.name) has no \(base.hook.rawValue) chain (only \(list)); use --backend nft",
            at: base.location))
        continue
      }
      if chain.name != base.hook.builtinChainName {
        diagnostics.append(
          .error(
            "iptables builtin chains are named by their hook: rename '\(chain.name)' to '\(base.hook.builtinChainName)' or use --backend nft",
            at: chain.location))
      }
      let types = builtin.chainTypes(on: base.hook)
      if !types.contains(base.type) {
        diagnostics.append(
          .error(
            "iptables \(builtin.name) \(base.hook.builtinChainName) is a chain of type \(types.map(\.rawValue).joined(separator: " or ")), not \(base.type.rawValue); use --backend nft",
            at: base.location))
      }
      let priority = builtin.priority(on: base.hook)
      if base.priority.value != priority {
        diagnostics.append(
          .error(
            "iptables table \(builtin.name) runs at priority \(priority) on \(base.hook.rawValue); custom priority \(base.priority) needs --backend nft",
            at: base.location))
      }
      if let other = hooksSeen[base.hook] {
        diagnostics.append(
          .error(
            "iptables has one \(base.hook.builtinChainName) chain per table; '\(chain.name)' and '\(other)' both hook \(base.hook.rawValue)",
            at: chain.location))
      }
      hooksSeen[base.hook] = chain.name
    }
    return diagnostics
  }

  /// Why iptables refuses a regular chain name, if it does.
  static func chainNameProblem(_ name: String) -> String? {
    if name.isEmpty { return "empty chain name" }
    if name.utf8.count > BuiltinTable.maximumChainNameLength {
      return
        "iptables chain names have at most \(BuiltinTable.maximumChainNameLength) characters; '\(name)' has \(name.utf8.count)"
    }
    if BuiltinTable.builtinChainNames.contains(name) {
      return "'\(name)' is an iptables builtin chain name; a regular chain needs another name"
    }
    if BuiltinTable.targetNames.contains(name) {
      return "'\(name)' is an iptables target name; '-j \(name)' could not reach the chain"
    }
    if name.hasPrefix("-") || name.hasPrefix("!")
      || name.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "'" || $0 == "\\" })
    {
      return "iptables-restore cannot read the chain name '\(name)'"
    }
    return nil
  }

  /// The hooks each chain of the merged table can be reached from, following jumps and gotos.
  func reachingHooks(_ tables: [Table]) -> [String: Set<Hook>] {
    var hooks: [String: Set<Hook>] = [:]
    var edges: [String: [String]] = [:]
    var work: [String] = []
    for table in tables {
      for chain in table.chains {
        edges[chain.name, default: []] += chain.rules.compactMap { $0.verdict?.targetChain }
        if let base = chain.base {
          hooks[chain.name, default: []].insert(base.hook)
          work.append(chain.name)
        }
      }
    }
    while let name = work.popLast() {
      for next in edges[name] ?? [] {
        let before = hooks[next] ?? []
        let after = before.union(hooks[name] ?? [])
        if after != before {
          hooks[next] = after
          work.append(next)
        }
      }
    }
    return hooks
  }

  /// One `*table … COMMIT` block as `iptables-save` prints it: builtin chains in kernel order,
  /// regular chains sorted by name (bytewise), then the rules chain by chain in that order.
  func render(_ builtin: BuiltinTable, _ tables: [Table], version: IPVersion) -> (String, [Diagnostic]) {
    var diagnostics: [Diagnostic] = []
    var owners: [String: (Chain, Table)] = [:]
    var ownerIndex: [String: Int] = [:]
    for (index, table) in tables.enumerated() {
      for chain in table.chains {
        if let (_, other) = owners[chain.name], ownerIndex[chain.name] != index {
          diagnostics.append(
            .error(
              "chain '\(chain.name)' is also defined by table \(other.family.rawValue) \(other.name); both become iptables table \(builtin.name) for \(version == .v4 ? "IPv4" : "IPv6")",
              at: chain.location,
              notes: [.init("the other definition", at: other.chain(chain.name)?.location ?? other.location)]))
          continue
        }
        if owners[chain.name] == nil {
          owners[chain.name] = (chain, table)
          ownerIndex[chain.name] = index
        }
      }
    }
    let hooks = reachingHooks(tables)
    let baseChains = builtin.hooks.map { hook in
      owners.values.first { $0.0.base?.hook == hook && $0.0.name == hook.builtinChainName }
    }
    let userChains = owners.values.filter { $0.0.base == nil }
      .sorted { Array($0.0.name.utf8).lexicographicallyPrecedes(Array($1.0.name.utf8)) }
    let userNames = Set(userChains.map(\.0.name))

    var lines = ["*\(builtin.name)"]
    for (hook, declared) in zip(builtin.hooks, baseChains) {
      let policy = declared?.0.base?.policy == .drop ? "DROP" : "ACCEPT"
      lines.append(":\(hook.builtinChainName) \(policy) [0:0]")
    }
    for (chain, _) in userChains { lines.append(":\(chain.name) - [0:0]") }
    for (chain, table) in baseChains.compactMap({ $0 }) + userChains {
      let translator = RuleTranslator(
        table: table, builtin: builtin, chain: chain, hooks: hooks[chain.name] ?? [], originComments: originComments)
      for rule in chain.rules {
        let (versions, problems) = translator.versions(of: rule)
        diagnostics += problems
        guard versions.contains(version) else { continue }
        let (rules, ruleProblems) = translator.translate(rule, version: version, userChains: userNames)
        lines += rules
        diagnostics += ruleProblems
      }
    }
    lines.append("COMMIT")
    return (lines.joined(separator: "\n") + "\n", diagnostics)
  }
}
