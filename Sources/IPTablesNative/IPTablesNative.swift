import Foundation
import IPTablesBackend

/// Native iptables (legacy x_tables) through libiptc: apply compiled rules, snapshot the live
/// tables, restore a snapshot. No `iptables` process is involved.
///
/// Every call acts in the network namespace of the calling thread (run it inside
/// `NetworkNamespace.run(in:)` to act on another). Each table is replaced by one `iptc_commit`
/// (one `IPT_SO_SET_REPLACE`), which is atomic for that table; x_tables cannot replace several
/// tables atomically, so when a later table fails the tables already committed are put back
/// from a snapshot taken under the same lock.
public struct IPTablesNative: Sendable {
  /// How writes serialise with other x_tables writers.
  public var locking: IPTLocking
  /// The lock file (`/run/xtables.lock`, shared with iptables-legacy).
  public var lockPath: String

  /// Creates a backend that takes the xtables lock (by default waiting up to 10 s).
  public init(locking: IPTLocking = .acquire(timeout: 10), lockPath: String = XTablesLock.defaultPath) {
    self.locking = locking
    self.lockPath = lockPath
  }

  /// Applies compiled output: every table it names is replaced; no other table is touched.
  ///
  /// Equivalent to `iptables-legacy-restore` of `output.ipv4` and `ip6tables-legacy-restore` of
  /// `output.ipv6`. On any error the kernel is left as it was.
  public func apply(_ output: IPTablesOutput) throws(IPTablesNativeError) {
    try apply(try IPTRuleset(output))
  }

  /// Applies a structured ruleset: every table it holds is replaced; no other table is touched.
  public func apply(_ ruleset: IPTRuleset) throws(IPTablesNativeError) {
    var seen = Set<IPTTableID>()
    var prepared: [PreparedTable] = []
    for table in ruleset.tables {
      let p = try PreparedTable(table)
      guard seen.insert(p.contents.id).inserted else {
        throw .invalidRule(table: table.label, chain: "", line: table.line, reason: "the table appears twice")
      }
      prepared.append(p)
    }
    try locked { () throws(IPTablesNativeError) in try replace(prepared) }
  }

  /// Reads the live tables. Tables not loaded in the namespace are listed as absent, not loaded.
  ///
  /// Equivalent to `iptables-legacy-save` and `ip6tables-legacy-save`, in a restorable form.
  public func snapshot(tables: [IPTTableID] = IPTTableID.all) throws(IPTablesNativeError) -> IPTSnapshot {
    try locked { () throws(IPTablesNativeError) in
      var snapshot = IPTSnapshot(tables: [])
      let loaded = Self.loadedTables()
      for id in tables {
        guard loaded.contains(id) else {
          snapshot.absent.append(id)
          continue
        }
        snapshot.tables.append(try TableSession(id).read())
      }
      return snapshot
    }
  }

  /// Puts every table of the snapshot back exactly (rules, policies, counters); a table the
  /// snapshot records as absent is emptied if it has been loaded since.
  ///
  /// Equivalent to `iptables-legacy-restore --counters` of the saved tables.
  public func restore(_ snapshot: IPTSnapshot) throws(IPTablesNativeError) {
    try locked { () throws(IPTablesNativeError) in
      var prepared = snapshot.tables.map { PreparedTable(contents: $0, lines: nil) }
      let loaded = Self.loadedTables()
      for id in snapshot.absent where loaded.contains(id) {
        let empty = try TableSession(id).read().chains.filter { $0.policy != nil }.map {
          IPTSnapshot.Chain(name: $0.name, policy: "ACCEPT", rules: [])
        }
        prepared.append(PreparedTable(contents: IPTSnapshot.Table(id: id, chains: empty), lines: nil))
      }
      try replace(prepared)
    }
  }

  /// Replaces the tables one commit each; if one fails, puts back those already committed.
  func replace(_ tables: [PreparedTable]) throws(IPTablesNativeError) {
    var committed: [IPTSnapshot.Table] = []
    for (index, table) in tables.enumerated() {
      do {
        let session = try TableSession(table.contents.id)
        // Only a table followed by another can need putting back; read it from the same handle.
        let before = index < tables.count - 1 ? session.read() : nil
        try session.replace(with: table.contents, where: table.place)
        if let before { committed.append(before) }
      } catch {
        do {
          for earlier in committed {
            try TableSession(earlier.id).replace(with: earlier, where: { _, _ in "earlier contents" })
          }
        } catch let rollback {
          throw .rollbackFailed(original: error, rollback: rollback)
        }
        throw error
      }
    }
  }

  /// Runs `body` holding the xtables lock (unless the caller holds it).
  func locked<T>(_ body: () throws(IPTablesNativeError) -> T) throws(IPTablesNativeError) -> T {
    switch locking {
    case .heldByCaller:
      return try body()
    case .acquire(let timeout):
      let lock = try XTablesLock(path: lockPath, timeout: timeout)
      defer { lock.unlock() }
      return try body()
    }
  }

  /// The tables instantiated in this thread's namespace (`/proc/net/ip_tables_names`,
  /// `ip6_tables_names`): reading any other would load it.
  static func loadedTables() -> Set<IPTTableID> {
    var ids = Set<IPTTableID>()
    for (family, file) in [(IPTFamily.ipv4, "ip_tables_names"), (.ipv6, "ip6_tables_names")] {
      // thread-self: namespaces are per thread, and /proc/net follows the main thread's.
      guard let text = try? String(contentsOfFile: "/proc/thread-self/net/" + file, encoding: .utf8) else { continue }
      for name in text.split(separator: "\n") { ids.insert(IPTTableID(family, String(name))) }
    }
    return ids
  }
}
