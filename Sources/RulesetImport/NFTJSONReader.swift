import Foundation
import NetfilterModel

/// Reads the objects of an `nft -j list ruleset` array: tables, chains, sets and rules, each
/// attached to its table by family and name; anything else is skipped with a warning.
struct NFTJSONReader {
  /// Every diagnostic points here (JSON has no useful lines): line 1 of the file.
  let location: SourceLocation
  var tables: [Table] = []
  var diagnostics: [Diagnostic] = []
  /// Tables of families the model does not import, so their chains and rules are skipped quietly.
  var skippedTables: Set<String> = []

  init(location: SourceLocation) {
    self.location = location
  }

  mutating func warn(_ message: String) {
    diagnostics.append(Diagnostic(.warning, message, at: location))
  }

  mutating func error(_ message: String) {
    diagnostics.append(.error(message, at: location))
  }

  mutating func read(_ items: [Any]) {
    for item in items {
      guard let object = item as? [String: Any], object.count == 1, let (kind, value) = object.first,
        let body = value as? [String: Any]
      else {
        error("expected an object with one key such as {\"table\": {…}}, found \(NFTJSON.compact(item))")
        continue
      }
      switch kind {
      case "metainfo": continue
      case "table": readTable(body)
      case "chain": readChain(body)
      case "set": readSet(body)
      case "rule": readRule(body)
      default:
        let name =
          "\(body["family"] as? String ?? "?") \(body["table"] as? String ?? "?") \(body["name"] as? String ?? "")"
        warn("nft \(kind) \(name) is not imported (the model has no \(kind) objects)")
      }
    }
  }

  /// `family name`, the key of a table.
  static func key(_ family: String, _ table: String) -> String { "\(family) \(table)" }

  func tableIndex(_ body: [String: Any]) -> Int? {
    guard let family = body["family"] as? String, let name = body["table"] as? String else { return nil }
    return tables.firstIndex { $0.family.rawValue == family && $0.name == name }
  }

  /// Whether an object belongs to a skipped table (then it is skipped without another warning).
  func isSkipped(_ body: [String: Any]) -> Bool {
    skippedTables.contains(Self.key(body["family"] as? String ?? "", body["table"] as? String ?? ""))
  }

  mutating func readTable(_ body: [String: Any]) {
    guard let familyName = body["family"] as? String, let name = body["name"] as? String else {
      return error("table without family or name: \(NFTJSON.compact(body))")
    }
    guard let family = Family(rawValue: familyName), family.isIP else {
      skippedTables.insert(Self.key(familyName, name))
      return warn("table \(familyName) \(name) is skipped: only ip, ip6 and inet tables are imported")
    }
    tables.append(Table(family: family, name: name, location: location))
  }

  mutating func readChain(_ body: [String: Any]) {
    guard !isSkipped(body) else { return }
    guard let name = body["name"] as? String, let t = tableIndex(body) else {
      return error("chain without name or known table: \(NFTJSON.compact(body))")
    }
    let label = "chain \(tables[t].family.rawValue) \(tables[t].name) \(name)"
    var kind = Chain.Kind.regular
    if let hookName = body["hook"] as? String {
      guard let typeName = body["type"] as? String, let type = ChainType(rawValue: typeName) else {
        return error("\(label): unknown chain type \(NFTJSON.compact(body["type"] ?? "none"))")
      }
      guard let hook = Hook(rawValue: hookName) else { return error("\(label): unknown hook \(hookName)") }
      guard let prio = NFTJSON.integer(body["prio"]) else {
        return error("\(label): priority \(NFTJSON.compact(body["prio"] ?? "none")) is not a number")
      }
      let policyName = body["policy"] as? String ?? "accept"
      guard let policy = ChainPolicy(rawValue: policyName) else {
        return error("\(label): unknown policy \(policyName)")
      }
      let device = body["dev"] as? String
      kind = .base(
        BaseChain(
          type: type, hook: hook, priority: .number(prio), policy: policy, device: device, location: location))
    }
    tables[t].chains.append(Chain(name: name, kind: kind, location: location))
  }

  mutating func readSet(_ body: [String: Any]) {
    guard !isSkipped(body) else { return }
    guard let name = body["name"] as? String, let t = tableIndex(body) else {
      return error("set without name or known table: \(NFTJSON.compact(body))")
    }
    let label = "set \(tables[t].family.rawValue) \(tables[t].name) \(name)"
    guard let typeName = body["type"] as? String, let type = SetType(rawValue: typeName) else {
      return warn("\(label) is not imported: type \(NFTJSON.compact(body["type"] ?? "none")) is not modelled")
    }
    var elements: [SetElement] = []
    for raw in body["elem"] as? [Any] ?? [] {
      guard let element = NFTJSON.setElement(raw, type: type) else {
        return warn("\(label) is not imported: element \(NFTJSON.compact(raw)) is not a \(type.rawValue)")
      }
      elements.append(element)
    }
    tables[t].sets.append(NamedSet(name: name, type: type, elements: elements, location: location))
  }

  mutating func readRule(_ body: [String: Any]) {
    guard !isSkipped(body) else { return }
    guard let t = tableIndex(body), let chainName = body["chain"] as? String,
      let c = tables[t].chains.firstIndex(where: { $0.name == chainName })
    else {
      return error("rule of an unknown table or chain: \(NFTJSON.compact(body))")
    }
    let handle = NFTJSON.integer(body["handle"]).map(String.init) ?? "?"
    let label = "rule \(tables[t].family.rawValue) \(tables[t].name)/\(chainName)/\(handle)"
    var rule = NFTJSONRule(label: label, family: tables[t].family, location: location)
    for expression in body["expr"] as? [Any] ?? [] { rule.read(expression) }
    var result = rule.finish()
    diagnostics += rule.diagnostics
    result.comment = body["comment"] as? String
    tables[t].chains[c].rules.append(result)
  }
}
