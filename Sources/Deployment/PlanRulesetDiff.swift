import NetfilterModel

/// What applying `new` over `old` would change: tables, sets and chains added, removed or changed,
/// and rules added or removed per chain, in a stable order (new ruleset order, then what only the
/// old one had).
///
/// Command-line equivalent: `diff` of two `nft list ruleset` listings, but aligned per chain so a
/// rule inserted in the middle is one addition, not a cascade of changed lines.
public struct RulesetDiff: Hashable, Sendable {
  /// One line of the diff.
  public struct Entry: Hashable, Sendable {
    /// Added (`+`), removed (`-`) or changed in place (`~`).
    public enum Change: String, Hashable, Sendable {
      case added, removed, changed
      /// The diff marker.
      public var marker: String {
        switch self {
        case .added: return "+"
        case .removed: return "-"
        case .changed: return "~"
        }
      }
    }
    /// What kind of kernel object changed.
    public enum Object: String, Hashable, Sendable {
      case table, set, chain, rule
    }
    public var change: Change
    public var object: Object
    public var family: Family
    public var table: String
    /// The chain or set name; nil for a table.
    public var name: String?
    /// 0-based rule position: in the new chain for an addition, in the old chain for a removal.
    public var index: Int?
    /// A rule's nft text, a chain's hook line, or what changed (`policy accept -> drop`); may be empty.
    public var detail: String
    /// Where the object was written (new for additions and changes, old for removals).
    public var location: SourceLocation

    public init(
      change: Change, object: Object, family: Family, table: String, name: String? = nil, index: Int? = nil,
      detail: String = "", location: SourceLocation = .unknown
    ) {
      self.change = change
      self.object = object
      self.family = family
      self.table = table
      self.name = name
      self.index = index
      self.detail = detail
      self.location = location
    }

    /// `+ rule inet filter input [3]: tcp dport 22 accept  (lab.policy:12:5)`.
    public var text: String {
      var s = "\(change.marker) \(object.rawValue) \(family.rawValue) \(table)"
      if let name { s += " \(name)" }
      if let index { s += " [\(index)]" }
      if !detail.isEmpty { s += ": \(detail)" }
      if let source = location.knownText { s += "  (\(source))" }
      return s
    }
  }

  /// Every change, in order.
  public var entries: [Entry]

  /// Compares two rulesets.
  public init(old: Ruleset, new: Ruleset) {
    var entries: [Entry] = []
    let oldTables = Dictionary(old.tables.map { (TableKey($0), $0) }, uniquingKeysWith: { a, _ in a })
    let newKeys = Set(new.tables.map(TableKey.init))
    for table in new.tables {
      if let before = oldTables[TableKey(table)] {
        entries += RulesetDiff.compare(before, table)
      } else {
        entries += RulesetDiff.whole(table, .added)
      }
    }
    for table in old.tables where !newKeys.contains(TableKey(table)) {
      entries += RulesetDiff.whole(table, .removed)
    }
    self.entries = entries
  }

  /// Number of objects added.
  public var added: Int { entries.count { $0.change == .added } }
  /// Number of objects removed.
  public var removed: Int { entries.count { $0.change == .removed } }
  /// Number of objects changed in place.
  public var changed: Int { entries.count { $0.change == .changed } }
  /// True when apply would change nothing.
  public var isEmpty: Bool { entries.isEmpty }

  /// `3 added, 1 removed, 1 changed`.
  public var summary: String { "\(added) added, \(removed) removed, \(changed) changed" }

  /// One line per entry.
  public var text: String { entries.map(\.text).joined(separator: "\n") }

  struct TableKey: Hashable {
    var family: Family
    var name: String
    init(_ table: Table) {
      family = table.family
      name = table.name
    }
  }
}

extension SourceLocation {
  /// `file:line:col`, or nil for an element that came from no file.
  var knownText: String? { line > 0 ? description : nil }
}
