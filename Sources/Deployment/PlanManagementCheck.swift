import NetfilterModel
import VerdictEngine

/// The lockout guard for one management flow: its packets predicted under the new ruleset.
///
/// Three packets per client address: the current session's packets to this host (input, ct state
/// established), this host's replies (output, established), and a new connection (input, ct state
/// new, tcp syn). Any drop or reject is a lockout; an unknown verdict is "cannot tell".
public struct ManagementCheck: Hashable, Sendable {
  /// The result of one packet, or of the whole check.
  public enum Outcome: String, Hashable, Sendable {
    case passes
    case blocked
    case cannotTell = "cannot tell"
  }

  /// One predicted packet.
  public struct Probe: Hashable, Sendable {
    /// `current session`, `replies`, `new connection` (with the client address for a prefix).
    public var name: String
    /// `tcp 192.0.2.10:51234 -> 10.0.0.1:22 (input, established)`.
    public var packet: String
    public var hook: Hook
    public var verdict: Simulation.Verdict
    public var outcome: Outcome
    /// What decided (`inet filter input [2] tcp dport 22 drop, lab.policy:9:5`), or why the engine
    /// cannot tell, with a hint when the interface was not known.
    public var reason: String?

    /// `new connection: tcp … (input): drop by inet filter input [2] …`.
    public var text: String {
      "\(name): \(packet): \(verdict.rawValue)" + (reason.map { " (\($0))" } ?? "")
    }
  }

  public var flow: ManagementFlow
  public var probes: [Probe]
  /// Notes on what was assumed (the server address when `--keep` does not give it).
  public var assumptions: [String]

  /// Predicts `flow` under `ruleset` (on a plain host, with the indexed engine).
  public init(flow: ManagementFlow, ruleset: Ruleset) {
    self.init(
      flow: flow, simulator: Simulator(ruleset: ruleset),
      interfaces: flow.inputInterface == nil ? ManagementCheck.interfaceNames(ruleset) : [])
  }

  /// `interfaces`: the names to try when the interface is not known and a rule tests it.
  init(flow: ManagementFlow, simulator: Simulator, interfaces: [String]) {
    self.flow = flow
    var assumptions: [String] = []
    let server: IPAddress
    if let known = flow.server {
      server = known
    } else {
      server = Probe.localAddress(flow.client.version)
      assumptions.append("this host's address is not known: \(server) stands for it")
    }
    let clients = ManagementCheck.clientAddresses(flow.client)
    if clients.count > 1 {
      assumptions.append("\(flow.client) is checked at its first and last host address")
    }
    var probes: [Probe] = []
    for client in clients {
      let label = clients.count > 1 ? " from \(client)" : ""
      for kind in ManagementCheck.Kind.allCases {
        let request = kind.request(client: client, server: server, flow: flow)
        var probe = Probe(kind.name + label, request, try? simulator.simulate(request, trace: false), flow: flow)
        if probe.verdict == .unknown, probe.reason?.contains(Probe.interfaceHint) == true {
          probe.decideOverInterfaces(interfaces, request, simulator)
        }
        probes.append(probe)
      }
    }
    self.probes = probes
    self.assumptions = assumptions
  }

  /// Blocked when any packet is dropped or rejected, else cannot tell when any is unknown.
  public var outcome: Outcome {
    if probes.contains(where: { $0.outcome == .blocked }) { return .blocked }
    if probes.contains(where: { $0.outcome == .cannotTell }) { return .cannotTell }
    return .passes
  }

  /// True when the new ruleset would cut the flow off.
  public var isLockout: Bool { outcome == .blocked }

  /// The interface names the ruleset tests (a wildcard as one name it matches), without `lo` (a
  /// remote client does not come in on it), plus one name no rule mentions.
  static func interfaceNames(_ ruleset: Ruleset) -> [String] {
    var names = Set<String>()
    func add(_ pattern: InterfacePattern) { names.insert(pattern.isWildcard ? pattern.name + "0" : pattern.name) }
    for table in ruleset.tables {
      for set in table.sets {
        for case .interface(let pattern) in set.elements { add(pattern) }
      }
      for chain in table.chains {
        for rule in chain.rules {
          for match in rule.matches {
            if case .interface(_, let operand) = match.kind { operand.inlineElements.forEach(add) }
            if case .interfaceIndex(_, let operand) = match.kind {
              operand.inlineElements.forEach { add(InterfacePattern(name: $0)) }
            }
          }
        }
      }
    }
    names.remove("lo")
    var other = "fbplan0"
    while names.contains(other) { other += "0" }
    return names.sorted() + [other]
  }

  /// The first and last host of a prefix (one address for a single address).
  static func clientAddresses(_ prefix: IPPrefix) -> [IPAddress] {
    if prefix.isSingleAddress { return [prefix.address] }
    var first = prefix.first
    var last = prefix.last
    if prefix.length < prefix.address.bitWidth - 1, let next = first.successor {
      // Skip the network and broadcast addresses: no client has them.
      first = next
      if case .v4(let v) = last { last = .v4(v - 1) }
    }
    return first == last ? [first] : [first, last]
  }

  /// The three packets of a management flow.
  enum Kind: CaseIterable {
    case session, replies, newConnection

    var name: String {
      switch self {
      case .session: return "current session"
      case .replies: return "replies"
      case .newConnection: return "new connection"
      }
    }

    func request(client: IPAddress, server: IPAddress, flow: ManagementFlow) -> Simulator.Request {
      let clientPort = flow.clientPort ?? 40000
      switch self {
      case .session:
        return Simulator.Request(
          packet: Packet(
            source: client, destination: server, l4proto: 6, sourcePort: clientPort,
            destinationPort: flow.serverPort, tcpFlags: .ack, inputInterface: flow.inputInterface,
            ctState: .established), hook: .input)
      case .replies:
        return Simulator.Request(
          packet: Packet(
            source: server, destination: client, l4proto: 6, sourcePort: flow.serverPort,
            destinationPort: clientPort, tcpFlags: .ack, outputInterface: flow.inputInterface,
            ctState: .established), hook: .output)
      case .newConnection:
        // Another port than the session's: a second connection from the same client.
        return Simulator.Request(
          packet: Packet(
            source: client, destination: server, l4proto: 6, sourcePort: clientPort &+ 1,
            destinationPort: flow.serverPort, tcpFlags: .syn, inputInterface: flow.inputInterface, ctState: .new),
          hook: .input)
      }
    }
  }
}

extension ManagementCheck.Probe {
  init(_ name: String, _ request: Simulator.Request, _ result: Simulation?, flow: ManagementFlow) {
    let p = request.packet
    let state = p.ctState == .new ? "new, syn" : p.ctState.rawValue
    let hook = request.hook ?? .input
    self.name = name
    self.packet = "\(p.summary) (\(hook.rawValue), \(state))"
    self.hook = hook
    guard let result else {
      verdict = .unknown
      outcome = .cannotTell
      reason = "the engine could not simulate this packet"
      return
    }
    verdict = result.verdict
    switch result.verdict {
    case .accept: outcome = .passes
    case .drop, .reject: outcome = .blocked
    case .unknown: outcome = .cannotTell
    }
    var reason = FlowChanges.reason(result)
    if result.verdict == .unknown, flow.inputInterface == nil, let why = result.reason, why.contains("interface") {
      reason! +=
        "; " + ManagementCheck.Probe.interfaceHint
        + ": give the interface (the one `ip route get \(flow.client.address)` names)"
    }
    if result.verdict != .unknown, let decided = reason { reason = "by " + decided }
    self.reason = reason
  }

  static func localAddress(_ v: IPVersion) -> IPAddress { PlanProbe.Generic.local(v) }

  static let interfaceHint = "the interface the management traffic uses is not known and a rule tests it"

  /// Without the interface, tries every name in `interfaces`: one verdict for all of them decides
  /// (the interface does not matter); different verdicts stay "cannot tell" and say which is which.
  mutating func decideOverInterfaces(_ interfaces: [String], _ request: Simulator.Request, _ simulator: Simulator) {
    var byVerdict: [Simulation.Verdict: [String]] = [:]
    var first: Simulation?
    for name in interfaces {
      var tried = request
      if hook == .output { tried.packet.outputInterface = name } else { tried.packet.inputInterface = name }
      guard let result = try? simulator.simulate(tried, trace: false) else { return }
      byVerdict[result.verdict, default: []].append(name)
      if first == nil { first = result }
    }
    guard let first else { return }
    if byVerdict.count == 1, first.verdict != .unknown {
      verdict = first.verdict
      outcome = first.verdict == .accept ? .passes : .blocked
      let decided = FlowChanges.reason(first).map { "by " + $0 + "; " } ?? ""
      reason =
        decided + "the interface is not known; the verdict is the same on every interface the rules name and on any"
        + " other (lo excepted)"
      return
    }
    let order: [Simulation.Verdict] = [.accept, .drop, .reject, .unknown]
    let parts = order.compactMap { v in byVerdict[v].map { "\(v.rawValue) on \($0.joined(separator: ", "))" } }
    reason = (reason ?? "") + "; it depends on the interface: " + parts.joined(separator: "; ")
  }
}
