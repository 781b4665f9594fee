import Foundation
import IPTablesBackend
import IPTablesNative
import NFTablesNative
import NetfilterModel
import Topology

/// The network namespace a command acts in: a named one (`--netns`), or the caller's own.
public struct NamespaceTarget: Sendable, CustomStringConvertible {
  public var name: String?
  public init(_ name: String?) { self.name = name }

  /// Runs `body` inside the namespace (on a thread of its own for a named one).
  @discardableResult
  public func run<T>(_ body: @escaping () throws -> T) throws -> T {
    guard let name else { return try body() }
    return try NetworkNamespace.run(in: name, body)
  }

  public var description: String { name.map { "namespace \($0)" } ?? "the current namespace" }
}

/// Everything a namespace's firewall holds, both backends, as the kernel reports it.
public struct LiveSnapshot: Codable, Sendable {
  public var nft: NFTSnapshot
  /// The legacy x_tables tables (nil when they could not be read).
  public var iptables: IPTSnapshot?

  /// Only the tables in `owned` (what Firebreak may restore or compare); an owned x_tables table
  /// that was not loaded is kept as absent (restoring it empties it).
  public func restricted(to owned: OwnedTables) -> LiveSnapshot {
    let keep = Set(owned.nft)
    var part = LiveSnapshot(nft: NFTSnapshot(tables: nft.tables.filter { keep.contains($0.id) }), iptables: nil)
    if !owned.iptables.isEmpty {
      let wanted = Set(owned.iptables)
      let tables = (iptables?.tables ?? []).filter { wanted.contains($0.id) }
      let present = Set(tables.map(\.id))
      part.iptables = IPTSnapshot(tables: tables, absent: owned.iptables.filter { !present.contains($0) })
    }
    return part
  }

  /// A stable text of the owned tables, for drift (handles and counters left out).
  public func canonicalText(of owned: OwnedTables) -> String {
    let part = restricted(to: owned)
    return part.nft.canonicalText + (part.iptables.map { $0.withoutCounters.text } ?? "")
  }
}

/// The kernel operations of a deployment, each inside the target namespace: one nf_tables
/// transaction (built natively, or by libnftables when the policy holds nft parts kept as text),
/// or one x_tables commit per table.
struct LiveFirewall {
  let target: NamespaceTarget

  func snapshot() throws -> LiveSnapshot {
    try target.run {
      LiveSnapshot(nft: try Connection().snapshot(), iptables: try IPTablesNative().snapshot())
    }
  }

  /// Replaces the tables `ruleset` declares with `backend`, and removes the tables the previous
  /// generation owned that this one does not (deleted in nftables, emptied in x_tables).
  /// `owned` is what `ruleset` declares with `backend` (`OwnedTables.declared`), computed once by
  /// the caller, which records it.
  func apply(_ ruleset: Ruleset, backend: Backend, owned: OwnedTables, previouslyOwned: OwnedTables) throws {
    let droppedNFT = previouslyOwned.nft.filter { !owned.nft.contains($0) }
    let droppedIPT = previouslyOwned.iptables.filter { !owned.iptables.contains($0) }
    try target.run {
      switch backend {
      case .nft where Libnftables.isNeeded(for: ruleset):
        // nft parts kept as text: only nft's parser can build them, so nft's own library sends
        // the compiled script, one transaction all the same.
        try Libnftables.apply(ruleset, deleting: droppedNFT)
      case .nft:
        try Connection().apply(ruleset, deleting: droppedNFT)
      case .iptables:
        try IPTablesNative().apply(try IPTablesCompiler().compile(ruleset))
        if !droppedNFT.isEmpty { try Connection().apply(Ruleset(), deleting: droppedNFT) }
      }
      if !droppedIPT.isEmpty { try IPTablesNative().restore(IPTSnapshot(tables: [], absent: droppedIPT)) }
    }
  }

  /// For a ruleset applied through libnftables (nft parts kept as text), nft's own check of the
  /// transaction `apply` would send: parsed, evaluated and checked by the kernel, then discarded
  /// (a dry run). A refusal nft places at a rule is thrown as a `DiagnosticList` at its policy
  /// line; any other as the `LibnftablesError`. Nothing to check otherwise: the native path
  /// refuses what it cannot build before it sends anything.
  func check(_ ruleset: Ruleset, backend: Backend, previouslyOwned: OwnedTables) throws {
    guard backend == .nft, Libnftables.isNeeded(for: ruleset) else { return }
    let declared = Set(ruleset.tables.map(TableID.init))
    let dropped = previouslyOwned.nft.filter { !declared.contains($0) }
    do {
      try target.run { try Libnftables.apply(ruleset, deleting: dropped, dryRun: true) }
    } catch let refusal as LibnftablesError {
      guard let location = refusal.location else { throw refusal }
      throw DiagnosticList([.error("nft refuses this rule: \(refusal.summary)", at: location)])
    }
  }

  /// Makes every table in `managed` exactly as in `snapshot`: tables the snapshot has are
  /// re-created from it, the others are deleted (emptied in x_tables); tables outside `managed`
  /// are never touched.
  func restore(_ snapshot: LiveSnapshot, managed: OwnedTables) throws {
    let part = snapshot.restricted(to: managed)
    try target.run {
      if !managed.nft.isEmpty { try Connection().restore(part.nft, replacing: managed.nft) }
      if let tables = part.iptables { try IPTablesNative().restore(tables) }
    }
  }
}

/// The backend a policy is applied with.
public enum Backend: String, Codable, Sendable, CaseIterable {
  case nft, iptables
}

extension OwnedTables {
  /// The tables applying `ruleset` with `backend` takes ownership of.
  static func declared(by ruleset: Ruleset, backend: Backend) throws -> OwnedTables {
    switch backend {
    case .nft: return OwnedTables(nft: ruleset.tables.map(TableID.init))
    case .iptables:
      let compiled = try IPTRuleset(try IPTablesCompiler().compile(ruleset))
      return OwnedTables(iptables: compiled.tables.map { IPTTableID($0.family, $0.name) })
    }
  }
}
