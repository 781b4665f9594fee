import Foundation
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

  /// Only the tables in `owned` (what Firebreak may restore or compare).
  public func restricted(to owned: OwnedTables) -> LiveSnapshot {
    let keep = Set(owned.nft)
    return LiveSnapshot(nft: NFTSnapshot(tables: nft.tables.filter { keep.contains($0.id) }))
  }

  /// A stable text of the owned tables, for drift (handles and counters left out).
  public func canonicalText(of owned: OwnedTables) -> String {
    restricted(to: owned).nft.canonicalText
  }
}

/// The kernel operations of a deployment, each inside the target namespace and each atomic per
/// backend (one nf_tables transaction).
struct LiveFirewall {
  let target: NamespaceTarget

  func snapshot() throws -> LiveSnapshot {
    try target.run { LiveSnapshot(nft: try Connection().snapshot()) }
  }

  /// Replaces the tables `ruleset` declares (with the nft backend) and deletes the tables the
  /// previous generation owned that this one does not: one transaction.
  func apply(_ ruleset: Ruleset, backend: Backend, previouslyOwned: OwnedTables) throws {
    let owned = OwnedTables.declared(by: ruleset, backend: backend)
    let dropped = previouslyOwned.nft.filter { !owned.nft.contains($0) }
    switch backend {
    case .nft:
      try target.run { try Connection().apply(ruleset, deleting: dropped) }
    case .iptables:
      throw DeploymentError.unsupported("the native iptables backend is not available yet")
    }
  }

  /// Makes every table in `managed` exactly as in `snapshot`: tables the snapshot has are
  /// re-created from it, the others are deleted; tables outside `managed` are never touched.
  func restore(_ snapshot: LiveSnapshot, managed: OwnedTables) throws {
    let part = snapshot.restricted(to: managed)
    try target.run { try Connection().restore(part.nft, replacing: managed.nft) }
  }
}

/// The backend a policy is applied with.
public enum Backend: String, Codable, Sendable, CaseIterable {
  case nft, iptables
}

extension OwnedTables {
  /// The tables applying `ruleset` with `backend` takes ownership of.
  static func declared(by ruleset: Ruleset, backend: Backend) -> OwnedTables {
    switch backend {
    case .nft: return OwnedTables(nft: ruleset.tables.map(TableID.init))
    case .iptables:
      var ids = Set<IPTablesTableID>()
      for table in ruleset.tables {
        let versions: [Int]
        switch table.family {
        case .ip: versions = [4]
        case .ip6: versions = [6]
        case .inet: versions = [4, 6]
        default: versions = []
        }
        for chain in table.chains {
          guard let base = chain.base else { continue }
          let name = base.type == .nat ? "nat" : table.name
          for v in versions { ids.insert(IPTablesTableID(version: v, name: name)) }
        }
      }
      return OwnedTables(iptables: Array(ids))
    }
  }
}

/// A deployment step that cannot go ahead.
public enum DeploymentError: Error, CustomStringConvertible {
  case unsupported(String)
  case invalidPolicy(String)

  public var description: String {
    switch self {
    case .unsupported(let why): return why
    case .invalidPolicy(let why): return why
    }
  }
}
