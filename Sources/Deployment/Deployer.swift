import Foundation
import NFTablesNative
import NetfilterModel

#if canImport(Glibc)
  import Glibc
#endif

/// Applies policies to a namespace's live firewall and keeps its generations: every change runs
/// under the state lock, is journaled before it touches the kernel, is one kernel transaction per
/// backend, and is recorded as a generation after. A confirm deadline is enforced by a watchdog
/// process that outlives this one.
public struct Deployer {
  public let store: StateStore
  public let target: NamespaceTarget
  /// Seconds to wait for another command's lock before refusing.
  public var lockWait: Double
  /// The firebreak executable the watchdog is started from.
  public var executable: String

  public init(store: StateStore, target: NamespaceTarget, lockWait: Double = 0, executable: String) {
    self.store = store
    self.target = target
    self.lockWait = lockWait
    self.executable = executable
  }

  var live: LiveFirewall { LiveFirewall(target: target) }

  // MARK: Apply

  /// What to apply.
  public struct ApplyRequest {
    public var policyPath: String
    public var policyFiles: [String: String]
    public var firewall: Firewall
    public var backend: Backend
    /// Arm a watchdog that restores the previous generation unless confirmed within this time.
    public var confirmSeconds: Double?
    public init(
      policyPath: String, policyFiles: [String: String], firewall: Firewall, backend: Backend,
      confirmSeconds: Double?
    ) {
      self.policyPath = policyPath
      self.policyFiles = policyFiles
      self.firewall = firewall
      self.backend = backend
      self.confirmSeconds = confirmSeconds
    }
  }

  /// What `check` sees before anything changes: the ruleset now applied (nil when Firebreak has
  /// not applied one) and the live drift from it, if any.
  public struct Before {
    public var generation: Int
    public var applied: Ruleset?
    public var drift: Drift?
  }

  /// The outcome of an apply.
  public struct Applied {
    public var generation: Int
    public var previous: Int
    public var deadline: Date?
  }

  /// Applies `request` under the lock. `check` runs first with what is applied now (the place to
  /// plan and to refuse, by throwing); nothing changes if it throws.
  public func apply(_ request: ApplyRequest, check: (Before) throws -> Void) throws -> Applied {
    let lock = try takeLock()
    defer { withExtendedLifetime(lock) {} }
    var state = try loadRecovering()
    if let pending = state.pending {
      throw Refusal.pendingConfirmation(generation: state.current, deadline: pending.deadline)
    }
    let current = try store.generation(state.current)
    let now = try live.snapshot()
    let managed = state.managed
    try check(
      Before(generation: state.current, applied: current.firewall()?.ruleset, drift: Drift(current, now, managed)))

    let owned = try OwnedTables.declared(by: request.firewall.ruleset, backend: request.backend)
    // nft parts kept as text: nft and the kernel check the whole transaction first, so a refusal
    // is reported at its policy line before anything is journaled, armed or changed.
    try live.check(request.firewall.ruleset, backend: request.backend, previouslyOwned: current.owned)
    let summary = Deployer.summary(request.firewall.ruleset)
    state.journal = DeploymentState.Journal(
      from: state.current, policyPath: request.policyPath, policyFiles: request.policyFiles,
      firewallName: request.firewall.namespace, backend: request.backend.rawValue, owned: owned, summary: summary)
    var deadline: Date?
    if let seconds = request.confirmSeconds {
      // Armed before the kernel changes: whatever happens to this process from here on, the
      // watchdog restores the current generation at the deadline unless confirmed.
      let token = UUID().uuidString
      deadline = Date().addingTimeInterval(seconds)
      state.pending = DeploymentState.Pending(
        previous: state.current, deadline: deadline!, watchdogPID: 0, token: token)
      try store.write(state)
      state.pending!.watchdogPID = try Watchdog.start(
        executable: executable, store: store, target: target, token: token)
    }
    // Managed from now on, whether or not this process lives to record the generation.
    let managedBefore = state.managed
    state.managed = state.managed.union(owned)
    try store.write(state)
    do {
      try live.apply(request.firewall.ruleset, backend: request.backend, owned: owned, previouslyOwned: current.owned)
    } catch {
      // The transaction aborted: the kernel is as it was; so is the saved state.
      if let pid = state.pending?.watchdogPID, pid > 0 { kill(pid, SIGTERM) }
      state.journal = nil
      state.pending = nil
      state.managed = managedBefore
      try store.write(state)
      throw error
    }
    let after = try live.snapshot()
    let number = (store.generationNumbers().last ?? 0) + 1
    try store.write(
      Generation(
        number: number, created: Date(), origin: .apply, policyPath: request.policyPath,
        policyFiles: request.policyFiles, firewallName: request.firewall.namespace, backend: request.backend.rawValue,
        owned: owned, summary: summary, snapshot: after))
    let previous = state.current
    state.current = number
    state.confirmed = request.confirmSeconds == nil
    state.journal = nil
    state.log(
      "apply \(number) (\(request.policyPath), \(request.backend.rawValue))"
        + (deadline.map { ", confirm by \(DeploymentState.timestamp($0))" } ?? ""))
    try store.write(state)
    return Applied(generation: number, previous: previous, deadline: deadline)
  }

  // MARK: Confirm, rollback

  /// Confirms a pending apply; false when nothing was pending.
  public func confirm() throws -> Bool {
    let lock = try takeLock()
    defer { withExtendedLifetime(lock) {} }
    var state = try loadRecovering()
    guard let pending = state.pending else { return false }
    state.pending = nil
    state.confirmed = true
    state.log("confirm \(state.current)")
    try store.write(state)
    // The watchdog sees the confirmation on its next look; the signal just saves it the wait.
    if pending.watchdogPID > 0 { kill(pending.watchdogPID, SIGTERM) }
    return true
  }

  /// Restores generation `number` (default: the one before the current) exactly, for every table
  /// Firebreak has ever owned here; other tables are not touched.
  public func rollback(to number: Int?, reason: String = "rollback") throws -> (from: Int, to: Int) {
    let lock = try takeLock()
    defer { withExtendedLifetime(lock) {} }
    var state = try loadRecovering()
    let from = state.current
    let wanted = number ?? max(0, from - 1)
    try restore(&state, to: wanted, reason: reason)
    return (from, wanted)
  }

  /// Restores `number` and records it as current (the caller holds the lock).
  func restore(_ state: inout DeploymentState, to number: Int, reason: String) throws {
    let generation = try store.generation(number)
    let from = state.current
    try live.restore(generation.snapshot, managed: state.managed)
    state.current = number
    state.confirmed = true
    state.pending = nil
    state.log("\(reason) from \(from) to \(number)")
    try store.write(state)
  }

  // MARK: Status, history

  /// Where the namespace stands: the current generation, its confirmation, and drift.
  public struct Status {
    public var current: Generation
    public var confirmed: Bool
    public var pending: DeploymentState.Pending?
    public var watchdogAlive: Bool
    public var drift: Drift?
    public var events: [String]
  }

  /// nil before the first apply.
  public func status() throws -> Status? {
    let lock = try takeLock()
    defer { withExtendedLifetime(lock) {} }
    guard try store.state() != nil else { return nil }
    let state = try loadRecovering()
    let current = try store.generation(state.current)
    let drift = Drift(current, try live.snapshot(), state.managed)
    let alive = state.pending.map { kill($0.watchdogPID, 0) == 0 } ?? false
    return Status(
      current: current, confirmed: state.confirmed, pending: state.pending, watchdogAlive: alive, drift: drift,
      events: state.events)
  }

  /// Every generation (headers), oldest first, and the current one's number.
  public func history() throws -> (generations: [GenerationSummary], current: Int?) {
    let state = try store.state()
    return (try store.generationNumbers().map { try store.summary($0) }, state?.current)
  }

  // MARK: Lock, recovery

  func takeLock() throws -> StateLock {
    let (lock, holder) = try StateLock.acquire(store, wait: lockWait)
    guard let lock else { throw Refusal.locked(holder: holder, directory: store.directory) }
    return lock
  }

  /// The state, after finishing what a killed command left: an apply whose journal is still
  /// there either reached the kernel (then its generation is recorded from the live state) or
  /// did not (then it is dropped). Records the baseline before the first apply. Holds the lock.
  func loadRecovering() throws -> DeploymentState {
    guard var state = try store.state() else {
      let now = try live.snapshot()
      try store.write(
        Generation(
          number: 0, created: Date(), origin: .baseline, policyPath: nil, policyFiles: nil, firewallName: nil,
          backend: nil, owned: OwnedTables(), summary: "before Firebreak", snapshot: now))
      var state = DeploymentState(current: 0)
      state.log("baseline 0")
      try store.write(state)
      return state
    }
    guard let journal = state.journal else { return state }
    let from = try store.generation(journal.from)
    let now = try live.snapshot()
    state.managed = state.managed.union(journal.owned)
    let managed = state.managed
    if now.canonicalText(of: managed) == from.snapshot.canonicalText(of: managed) {
      state.log("an interrupted apply of \(journal.policyPath) never reached the kernel; still \(journal.from)")
    } else {
      let number = (store.generationNumbers().last ?? 0) + 1
      try store.write(
        Generation(
          number: number, created: Date(), origin: .recovered, policyPath: journal.policyPath,
          policyFiles: journal.policyFiles, firewallName: journal.firewallName, backend: journal.backend,
          owned: journal.owned, summary: journal.summary, snapshot: now))
      state.current = number
      state.confirmed = state.pending == nil
      state.log("an interrupted apply of \(journal.policyPath) had reached the kernel; recorded as \(number)")
    }
    state.journal = nil
    try store.write(state)
    return state
  }

  static func summary(_ ruleset: Ruleset) -> String {
    let chains = ruleset.tables.reduce(0) { $0 + $1.chains.count }
    let rules = ruleset.tables.reduce(0) { $0 + $1.chains.reduce(0) { $0 + $1.rules.count } }
    func n(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }
    return "\(n(ruleset.tables.count, "table")), \(n(chains, "chain")), \(n(rules, "rule"))"
  }
}

/// The live tables Firebreak manages differ from what its current generation recorded.
public struct Drift: Sendable {
  /// Lines as `- recorded` / `+ live`.
  public var lines: [String]

  init?(_ generation: Generation, _ live: LiveSnapshot, _ managed: OwnedTables) {
    let recorded = generation.snapshot.canonicalText(of: managed)
    let now = live.canonicalText(of: managed)
    guard recorded != now else { return nil }
    lines = LineDiff.lines(old: recorded, new: now).filter { !$0.dropFirst(2).allSatisfy(\.isWhitespace) }
  }
}

/// A refusal for safety: exit status 4, nothing changed.
public enum Refusal: Error, CustomStringConvertible {
  case locked(holder: String, directory: String)
  case pendingConfirmation(generation: Int, deadline: Date)
  case lockout(String)

  public var description: String {
    switch self {
    case .locked(let holder, let directory):
      return
        "another firebreak command (\(holder)) holds the lock on \(directory); try again, or wait with --wait SECONDS"
    case .pendingConfirmation(let generation, let deadline):
      return
        "generation \(generation) is waiting for confirmation until \(DeploymentState.timestamp(deadline)): run 'firebreak confirm' to keep it or 'firebreak rollback' to undo it first"
    case .lockout(let why): return why
    }
  }
}
