import NetfilterModel

extension RulesetDiff {
  /// A table that exists on one side only: the table, its sets, chains and rules.
  static func whole(_ table: Table, _ change: Entry.Change) -> [Entry] {
    var entries = [
      Entry(change: change, object: .table, family: table.family, table: table.name, location: table.location)
    ]
    for set in table.sets { entries.append(setEntry(set, table, change)) }
    for chain in table.chains { entries += wholeChain(chain, table, change) }
    return entries
  }

  /// A table on both sides: its sets and chains compared by name.
  static func compare(_ old: Table, _ new: Table) -> [Entry] {
    var entries: [Entry] = []
    let oldSets = Dictionary(old.sets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for set in new.sets {
      if let before = oldSets[set.name] {
        if let detail = setChanges(before, set) {
          entries.append(
            Entry(
              change: .changed, object: .set, family: new.family, table: new.name, name: set.name, detail: detail,
              location: set.location))
        }
      } else {
        entries.append(setEntry(set, new, .added))
      }
    }
    let newSetNames = Set(new.sets.map(\.name))
    for set in old.sets where !newSetNames.contains(set.name) { entries.append(setEntry(set, old, .removed)) }

    let oldChains = Dictionary(old.chains.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for chain in new.chains {
      guard let before = oldChains[chain.name] else {
        entries += wholeChain(chain, new, .added)
        continue
      }
      if let detail = chainChanges(before.kind, chain.kind) {
        entries.append(
          Entry(
            change: .changed, object: .chain, family: new.family, table: new.name, name: chain.name, detail: detail,
            location: chain.location))
      }
      entries += ruleChanges(before, chain, family: new.family, table: new.name)
    }
    let newChainNames = Set(new.chains.map(\.name))
    for chain in old.chains where !newChainNames.contains(chain.name) { entries += wholeChain(chain, old, .removed) }
    return entries
  }

  static func wholeChain(_ chain: Chain, _ table: Table, _ change: Entry.Change) -> [Entry] {
    var entries = [
      Entry(
        change: change, object: .chain, family: table.family, table: table.name, name: chain.name,
        detail: chain.base.map(hookLine) ?? "", location: chain.location)
    ]
    for (index, rule) in chain.rules.enumerated() {
      entries.append(ruleEntry(rule, index, chain, table.family, table.name, change))
    }
    return entries
  }

  static func ruleEntry(
    _ rule: Rule, _ index: Int, _ chain: Chain, _ family: Family, _ table: String, _ change: Entry.Change
  ) -> Entry {
    Entry(
      change: change, object: .rule, family: family, table: table, name: chain.name, index: index,
      detail: ruleText(rule, family), location: rule.location)
  }

  /// The rule as nft lists it, with the user's comment (a changed comment is a changed rule).
  static func ruleText(_ rule: Rule, _ family: Family) -> String {
    NFTSyntax.rule(rule, family: family, comment: rule.comment)
  }

  /// `type filter hook input priority filter; policy drop`.
  static func hookLine(_ base: BaseChain) -> String {
    var s = "type \(base.type.rawValue) hook \(base.hook.rawValue)"
    if let device = base.device { s += " device \(device)" }
    return s + " priority \(base.priority); policy \(base.policy.rawValue)"
  }

  /// What differs between two chain kinds (`policy accept -> drop, priority filter -> 10`), or nil.
  static func chainChanges(_ old: Chain.Kind, _ new: Chain.Kind) -> String? {
    switch (old, new) {
    case (.regular, .regular): return nil
    case (.regular, .base(let b)): return "regular -> \(hookLine(b))"
    case (.base(let a), .regular): return "\(hookLine(a)) -> regular"
    case (.base(let a), .base(let b)):
      var parts: [String] = []
      if a.type != b.type { parts.append("type \(a.type.rawValue) -> \(b.type.rawValue)") }
      if a.hook != b.hook { parts.append("hook \(a.hook.rawValue) -> \(b.hook.rawValue)") }
      if a.device != b.device { parts.append("device \(a.device ?? "none") -> \(b.device ?? "none")") }
      if a.priority != b.priority { parts.append("priority \(a.priority) -> \(b.priority)") }
      if a.policy != b.policy { parts.append("policy \(a.policy.rawValue) -> \(b.policy.rawValue)") }
      return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
  }

  static func setEntry(_ set: NamedSet, _ table: Table, _ change: Entry.Change) -> Entry {
    let count = set.elements.count
    return Entry(
      change: change, object: .set, family: table.family, table: table.name, name: set.name,
      detail: "\(set.type.rawValue), \(count) element\(count == 1 ? "" : "s")", location: set.location)
  }

  /// `type ipv4_addr -> ipv6_addr` or `+ 10.0.0.0/8, - 203.0.113.0/24`, or nil when equal.
  static func setChanges(_ old: NamedSet, _ new: NamedSet) -> String? {
    if old.type != new.type { return "type \(old.type.rawValue) -> \(new.type.rawValue)" }
    let before = Set(old.elements.map(elementText))
    let after = Set(new.elements.map(elementText))
    let added = new.elements.map(elementText).filter { !before.contains($0) }
    let removed = old.elements.map(elementText).filter { !after.contains($0) }
    let parts = added.map { "+ " + $0 } + removed.map { "- " + $0 }
    return parts.isEmpty ? nil : parts.joined(separator: ", ")
  }

  static func elementText(_ element: SetElement) -> String {
    switch element {
    case .address(let a): return a.description
    case .port(let p): return p.description
    case .proto(let p): return ProtocolNames.protocolName(p)
    case .interface(let i): return NFTSyntax.quote(i.description)
    case .ether(let m): return m.description
    }
  }
}
