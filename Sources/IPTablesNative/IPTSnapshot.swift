/// Which table: `ip filter`, `ip6 nat`, ….
public struct IPTTableID: Codable, Sendable, Hashable, CustomStringConvertible {
  /// `ip` or `ip6`.
  public var family: IPTFamily
  /// `filter`, `nat`, `mangle`, `raw` or `security`.
  public var name: String

  /// Names a table.
  public init(_ family: IPTFamily, _ name: String) {
    self.family = family
    self.name = name
  }

  /// The five x_tables tables of iptables-legacy, in `iptables-save`'s reading order.
  public static let names = ["raw", "mangle", "filter", "nat", "security"]

  /// Every table of both families.
  public static let all: [IPTTableID] = IPTFamily.allCases.flatMap { f in names.map { IPTTableID(f, $0) } }

  public var description: String { "\(family.rawValue) \(name)" }
}

/// Packet and byte counters (`struct xt_counters`).
public struct IPTCounters: Codable, Sendable, Hashable {
  /// Packets.
  public var packets: UInt64
  /// Bytes.
  public var bytes: UInt64

  /// Creates counters.
  public init(packets: UInt64 = 0, bytes: UInt64 = 0) {
    self.packets = packets
    self.bytes = bytes
  }
}

/// The live x_tables tables, exactly enough to put them back: `IPTablesNative.snapshot(tables:)`.
///
/// Rules are kept as the kernel's entry bytes (counters and `comefrom` zeroed, a standard
/// target's verdict replaced by its label: `ACCEPT`, a chain name, `""`), so restoring needs no
/// knowledge of the extensions. Compare two snapshots with `equalsIgnoringCounters`.
public struct IPTSnapshot: Codable, Sendable, Equatable {
  /// The tables that were loaded when the snapshot was taken.
  public var tables: [Table]
  /// Tables asked for that were not loaded in the namespace (restoring one empties it if it
  /// exists by then: x_tables cannot unload a table).
  public var absent: [IPTTableID]

  /// Creates a snapshot.
  public init(tables: [Table], absent: [IPTTableID] = []) {
    self.tables = tables
    self.absent = absent
  }

  /// One table: its chains in kernel order (builtin chains first, then user chains by name).
  public struct Table: Codable, Sendable, Equatable {
    /// Which table.
    public var id: IPTTableID
    /// The chains with their rules.
    public var chains: [Chain]

    /// Creates a table.
    public init(id: IPTTableID, chains: [Chain]) {
      self.id = id
      self.chains = chains
    }
  }

  /// A chain: a builtin one has a policy and policy counters.
  public struct Chain: Codable, Sendable, Equatable {
    /// The chain name.
    public var name: String
    /// `ACCEPT`/`DROP` for a builtin chain, nil for a user chain.
    public var policy: String?
    /// The policy counters of a builtin chain.
    public var counters: IPTCounters
    /// The rules in order.
    public var rules: [Rule]

    /// Creates a chain.
    public init(name: String, policy: String?, counters: IPTCounters = IPTCounters(), rules: [Rule]) {
      self.name = name
      self.policy = policy
      self.counters = counters
      self.rules = rules
    }
  }

  /// A rule: the entry as `iptc_append_entry` takes it, and its counters.
  public struct Rule: Codable, Sendable, Equatable {
    /// `struct ipt_entry`/`ip6t_entry` with matches and target; counters and `comefrom` zero.
    public var entry: [UInt8]
    /// The rule's counters.
    public var counters: IPTCounters

    /// Creates a rule.
    public init(entry: [UInt8], counters: IPTCounters = IPTCounters()) {
      self.entry = entry
      self.counters = counters
    }
  }

  /// This snapshot with every counter zero.
  public var withoutCounters: IPTSnapshot {
    var copy = self
    for t in copy.tables.indices {
      for c in copy.tables[t].chains.indices {
        copy.tables[t].chains[c].counters = IPTCounters()
        for r in copy.tables[t].chains[c].rules.indices { copy.tables[t].chains[c].rules[r].counters = IPTCounters() }
      }
    }
    return copy
  }

  /// True when both hold the same tables, chains, policies and rules, whatever the counters.
  public func equalsIgnoringCounters(_ other: IPTSnapshot) -> Bool {
    withoutCounters == other.withoutCounters
  }

  /// The table with this id.
  public func table(_ id: IPTTableID) -> Table? { tables.first { $0.id == id } }
}

extension IPTSnapshot {
  /// The snapshot the kernel will hold once `ruleset` is applied (counters zero), without
  /// touching the kernel: compare it with a live snapshot to see drift.
  ///
  /// Chains are in libiptc's order (builtin chains as declared, user chains by name), and the
  /// entries are byte for byte what the kernel lists back.
  public init(_ ruleset: IPTRuleset) throws(IPTablesNativeError) {
    var tables: [Table] = []
    for table in ruleset.tables {
      var contents = try PreparedTable(table).contents
      let builtin = contents.chains.filter { $0.policy != nil }
      let user = contents.chains.filter { $0.policy == nil }.sorted {
        Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8))
      }
      contents.chains = builtin + user
      tables.append(contents)
    }
    self.init(tables: tables)
  }
}
