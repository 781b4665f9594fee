import Foundation
import IPTablesNative
import NFTablesNative
import NetfilterModel

/// One generation of a namespace's firewall: a full snapshot of the live rulesets at that point
/// and the policy that produced it. Generation 0 is what was there before Firebreak's first apply.
public struct Generation: Codable, Sendable {
  /// How the generation came about.
  public enum Origin: String, Codable, Sendable {
    /// The live state before Firebreak first applied anything.
    case baseline
    /// `firebreak apply`.
    case apply
    /// An interrupted apply found applied by the next command (recorded from the journal).
    case recovered
  }

  public var number: Int
  public var created: Date
  public var origin: Origin
  /// The policy file as given, and the text of every file it read (itself and its includes), so
  /// it can be loaded again exactly as it was (to plan against it, or to show it).
  public var policyPath: String?
  public var policyFiles: [String: String]?
  /// Which of the policy's firewalls was applied (`host` for a policy without topology).
  public var firewallName: String?
  /// The backend the policy was applied with (`nft` or `iptables`).
  public var backend: String?
  /// The tables this generation's policy declares: Firebreak owns exactly these.
  public var owned: OwnedTables
  /// `3 tables, 7 chains, 41 rules` and the like.
  public var summary: String
  /// Every table of the namespace as it was, both backends.
  public var snapshot: LiveSnapshot
}

/// A generation without its snapshot and policy text: what `history` lists (decoded without
/// building the snapshot, which can be megabytes).
public struct GenerationSummary: Codable, Sendable {
  public var number: Int
  public var created: Date
  public var origin: Generation.Origin
  public var policyPath: String?
  public var backend: String?
  public var summary: String
}

/// The tables a policy owns, per backend.
public struct OwnedTables: Codable, Sendable, Equatable {
  public var nft: [TableID]
  public var iptables: [IPTTableID]

  public init(nft: [TableID] = [], iptables: [IPTTableID] = []) {
    self.nft = nft.sorted()
    self.iptables = iptables.sorted { $0.description < $1.description }
  }

  public var isEmpty: Bool { nft.isEmpty && iptables.isEmpty }

  public func union(_ other: OwnedTables) -> OwnedTables {
    OwnedTables(nft: Array(Set(nft).union(other.nft)), iptables: Array(Set(iptables).union(other.iptables)))
  }

  public var description: String {
    let all = nft.map { "nft \($0)" } + iptables.map { "iptables \($0)" }
    return all.isEmpty ? "none" : all.joined(separator: ", ")
  }
}

/// What `current.json` holds: the generation the live state should equal, whether it is
/// confirmed, a pending confirmation, an apply in flight, and a short event log.
public struct DeploymentState: Codable, Sendable {
  /// A confirmation the watchdog waits for.
  public struct Pending: Codable, Sendable {
    /// The generation the watchdog restores at the deadline.
    public var previous: Int
    public var deadline: Date
    public var watchdogPID: Int32
    /// Ties the watchdog to this apply (a later apply's watchdog never acts for an earlier one).
    public var token: String
  }

  /// An apply that started: if the process dies before recording its generation, the next
  /// command finds this and records what the kernel holds (old or new, never a mix).
  public struct Journal: Codable, Sendable {
    public var from: Int
    public var policyPath: String
    public var policyFiles: [String: String]
    public var firewallName: String
    public var backend: String
    public var owned: OwnedTables
    public var summary: String
  }

  public var current: Int
  public var confirmed: Bool
  /// Every table any generation has owned: what restores and drift look at (kept here so no
  /// command has to read every generation).
  public var managed: OwnedTables
  public var pending: Pending?
  public var journal: Journal?
  /// `2026-12-04T23:50:00Z apply 3 (Rules/lab.policy)`, newest last, at most `maximumEvents`.
  public var events: [String]

  public init(current: Int) {
    self.current = current
    confirmed = true
    managed = OwnedTables()
    events = []
  }

  static let maximumEvents = 200

  mutating func log(_ text: String, at date: Date = Date()) {
    events.append("\(DeploymentState.timestamp(date)) \(text)")
    if events.count > DeploymentState.maximumEvents { events.removeFirst(events.count - DeploymentState.maximumEvents) }
  }

  public static func timestamp(_ date: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: date)
  }
}
