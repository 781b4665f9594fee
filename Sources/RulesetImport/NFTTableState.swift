import NetfilterModel

/// A table while a script is read: its chains with the kernel's rule handles, its sets, the
/// names of what is kept out of the model, and the handle counter nft's kernel keeps per table.
struct NFTTableState {
  /// One kernel rule: its handle and the model rules it became (several for an expanded
  /// verdict map), with the chains it names.
  struct Entry {
    var handle: Int
    var rules: [Rule]
    var references: [(chain: String, location: SourceLocation)]
  }

  struct ChainState {
    var name: String
    var kind: Chain.Kind
    var location: SourceLocation
    var handle: Int
    var entries: [Entry] = []
  }

  struct SetState {
    var set: NamedSet
    var handle: Int
  }

  var family: Family
  var name: String
  var location: SourceLocation
  var chains: [ChainState] = []
  var chainIndex: [String: Int] = [:]
  var sets: [SetState] = []
  /// What rules of this table can see: set types, and the sets and maps kept out.
  var context: NFTRuleContext
  /// The last handle given out: the kernel numbers chains, sets, objects and rules of a table
  /// from 1 in the order they are added (`nft -a` shows them as `# handle N`).
  var lastHandle = 0
  /// `flags dormant`: the kernel does not evaluate the table.
  var dormant = false

  init(family: Family, name: String, location: SourceLocation) {
    self.family = family
    self.name = name
    self.location = location
    self.context = NFTRuleContext(family: family)
  }

  /// `family name`, how messages name the table.
  var label: String { "\(family.rawValue) \(name)" }

  /// The handle of a new object: the one its `# handle N` comment gives, else the next one.
  mutating func handle(_ given: Int?) -> Int {
    if let given {
      lastHandle = max(lastHandle, given)
      return given
    }
    lastHandle += 1
    return lastHandle
  }

  func chain(_ name: String) -> Int? { chainIndex[name] }

  mutating func addChain(_ chain: ChainState) {
    chainIndex[chain.name] = chains.count
    chains.append(chain)
  }

  mutating func removeChain(at index: Int) {
    chains.remove(at: index)
    chainIndex = [:]
    for (k, c) in chains.enumerated() { chainIndex[c.name] = k }
  }

  mutating func renameChain(at index: Int, to name: String) {
    chainIndex[chains[index].name] = nil
    chains[index].name = name
    chainIndex[name] = index
  }

  func set(_ name: String) -> Int? { sets.firstIndex { $0.set.name == name } }

  mutating func addSet(_ set: NamedSet, handle: Int) {
    sets.append(SetState(set: set, handle: handle))
    context.sets[set.name] = set.type
  }

  mutating func removeSet(_ name: String) {
    sets.removeAll { $0.set.name == name }
    context.sets[name] = nil
    context.unmodelled.remove(name)
  }

  /// Every set and map of the table, modelled or not.
  func hasSetOrMap(_ name: String) -> Bool { context.sets[name] != nil || context.unmodelled.contains(name) }

  /// The table in the model.
  var table: Table {
    Table(
      family: family, name: name, sets: sets.map(\.set),
      chains: chains.map { c in
        Chain(name: c.name, kind: c.kind, rules: c.entries.flatMap(\.rules), location: c.location)
      }, location: location)
  }
}
