import CNftnl
import Foundation
import NFTablesBackend
import NetfilterModel

/// A connection to nf_tables in one network namespace: the namespace of the thread that created
/// it (open it inside `NetworkNamespace.run(in:)` to act in a named one). Not thread-safe; use it
/// from one thread at a time.
public final class Connection {
  let socket: NFTSocket

  /// Opens a `NETLINK_NETFILTER` socket in the calling thread's network namespace.
  public init() throws { socket = try NFTSocket() }

  /// What one apply sent and how long it took.
  public struct ApplyStatistics: Sendable {
    /// Messages in the batch (begin and end not counted) and their bytes.
    public var messages: Int
    public var bytes: Int
    /// Model -> netlink messages.
    public var buildSeconds: Double
    /// Send, kernel transaction and acks.
    public var kernelSeconds: Double
  }

  /// Replaces exactly the tables `ruleset` declares, and deletes the `deleting` tables, in one
  /// kernel transaction: for each table NEWTABLE, DELTABLE, NEWTABLE, its chains, sets with their
  /// elements, and rules. All or nothing; tables not named are never touched.
  ///
  /// Equivalent to `nft -f` of `NFTScript().compile(ruleset)` (plus `delete table` for `deleting`),
  /// without an nft process. Throws `DiagnosticList` for what the backend cannot express (nothing
  /// is sent) and `NFTKernelError`, naming the object and where the policy wrote it, when the
  /// kernel refuses (the kernel is then unchanged).
  @discardableResult
  public func apply(_ ruleset: Ruleset, deleting: [TableID] = []) throws -> ApplyStatistics {
    let start = DispatchTime.now()
    let problems = NFTScript().unsupported(ruleset)
    if !problems.isEmpty { throw DiagnosticList(problems) }
    var linear: [[String: [LinearRule]]] = []
    for table in ruleset.tables {
      var chains: [String: [LinearRule]] = [:]
      for chain in table.chains {
        chains[chain.name] = try chain.rules.map { try RuleLinearizer.linearize($0, family: table.family) }
      }
      linear.append(chains)
    }
    let batch = Batch(firstSequence: socket.sequence)
    let declared = Set(ruleset.tables.map(TableID.init))
    for id in deleting where !declared.contains(id) { batch.deleteTable(id) }
    for (table, rules) in zip(ruleset.tables, linear) {
      batch.deleteTable(TableID(table))
      batch.addTable(table, rules: rules)
    }
    return try send(batch, builtSince: start)
  }

  /// Sends a built batch as one transaction and says what it cost (building took since `start`).
  func send(_ batch: Batch, builtSince start: DispatchTime) throws -> ApplyStatistics {
    let built = DispatchTime.now()
    let bytes = batch.bytes.count
    try socket.send(batch)
    let done = DispatchTime.now()
    return ApplyStatistics(
      messages: batch.messageCount, bytes: bytes,
      buildSeconds: Double(built.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9,
      kernelSeconds: Double(done.uptimeNanoseconds - built.uptimeNanoseconds) / 1e9)
  }
}
