import NetfilterModel

/// Predicts what the kernel does with a packet: the hooks it crosses in each namespace, every base
/// chain in priority order, the rules consulted, NAT, and the final verdict with what decided it.
public struct Simulator {
  /// How the packet enters the simulation.
  public struct Request: Hashable, Sendable {
    public var packet: Packet
    /// Without topology: the path (`input`, `forward`, `output`); nil to infer it.
    public var hook: Hook?
    /// With topology: the namespace the packet is sent from; nil to find it from the source address.
    public var from: String?
    public init(packet: Packet, hook: Hook? = nil, from: String? = nil) {
      self.packet = packet
      self.hook = hook
      self.from = from
    }
  }

  /// A request the simulator cannot answer (bad input, not an engine limitation).
  public struct RequestError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
  }

  /// How rules are searched: one by one (the reference), or through per-chain indexes. Both give
  /// the same verdicts, deciding rules and traces.
  public enum Engine: String, Sendable, CaseIterable {
    case linear, indexed
  }

  let firewalls: [String: NamespaceFirewall]
  /// The firewall of a run without topology (found once, not per packet).
  let plainHost: NamespaceFirewall
  let network: Network?
  /// Notes that hold for every answer (how the ruleset was obtained).
  let baseAssumptions: [String]

  /// A simulator for a policy: with a topology the packet is followed across namespaces.
  public init(policy: Policy, engine: Engine = .indexed) {
    var firewalls: [String: NamespaceFirewall] = [:]
    let named = policy.topology != nil
    for fw in policy.firewalls {
      firewalls[fw.namespace] = NamespaceFirewall(
        name: named ? fw.namespace : nil, ruleset: fw.ruleset, indexed: engine == .indexed)
    }
    self.firewalls = firewalls
    plainHost = firewalls[Firewall.defaultNamespace] ?? NamespaceFirewall(name: nil, ruleset: Ruleset())
    self.network = policy.topology.map(Network.init)
    self.baseAssumptions = []
  }

  /// A simulator for one ruleset on a plain host (an imported dump).
  public init(ruleset: Ruleset, assumptions: [String] = [], engine: Engine = .indexed) {
    plainHost = NamespaceFirewall(name: nil, ruleset: ruleset, indexed: engine == .indexed)
    firewalls = [Firewall.defaultNamespace: plainHost]
    network = nil
    baseAssumptions = assumptions
  }

  /// The prediction for one packet; without `trace` only the verdict and what decided it are
  /// kept (bulk runs).
  public func simulate(_ request: Request, trace: Bool = true) throws -> Simulation {
    var state = RunState()
    state.tracing = trace
    for a in baseAssumptions { state.assume(a) }
    if let network {
      return try TopologyWalk(simulator: self, network: network).run(request, &state)
    }
    return simulatePlainHost(request, &state)
  }

  // MARK: One namespace, no topology

  func simulatePlainHost(_ request: Request, _ state: inout RunState) -> Simulation {
    var packet = request.packet
    state.sent = packet
    let firewall = plainHost
    let hook = request.hook ?? inferredHook(packet)
    if state.assumptions.isEmpty {
      // The common case shares one prebuilt array instead of building one per packet.
      state.assumptions = Simulator.pathAssumptionLists[request.hook != nil ? 1 : 0][hook.ordinal]
    } else {
      state.assume(Simulator.pathAssumption(hook, given: request.hook != nil))
    }
    if packet.kind == .arp {
      return finish(.accept, nil, &state, reason: "ARP is not seen by the ip, ip6 and inet hooks")
    }
    let route: Int
    switch hook {
    case .output, .postrouting:
      route = 2
      // Locally generated: there is no input interface, at output nor at postrouting.
      packet.inputInterface = ""
      state.plainHostAddress = packet.source
    case .forward: route = 1
    default:
      route = 0
      state.plainHostAddress = packet.destination
    }
    let hooks = Simulator.routes[route]
    // The path so far, from prebuilt prefixes (no array built per packet).
    let paths = Simulator.pathPrefixes[route]
    for (n, h) in hooks.enumerated() {
      state.path = paths[n + 1]
      let destination = packet.destination
      defer {
        if h == .prerouting && packet.destination != destination {
          state.assume(
            "no topology: after DNAT to \(packet.destination) the packet stays on the \(hook.rawValue) path; the kernel's routing decision may differ (give a topology)"
          )
        }
      }
      switch firewall.run(hook: h, packet: &packet, state: &state, recordPath: false) {
      case .pass: continue
      case .drop(let d): return finish(.drop, d, &state)
      case .reject(let d): return finish(.reject, d, &state)
      case .unknown(let why): return finish(.unknown, nil, &state, reason: why)
      }
    }
    return finish(.accept, state.lastRuleAccept ?? state.lastPolicyAccept, &state)
  }

  /// The hooks a packet crosses without topology: to a local process, forwarded, sent locally.
  static let routes: [[Hook]] = [
    [.prerouting, .input], [.prerouting, .forward, .postrouting], [.output, .postrouting],
  ]
  /// Per route, the hooks crossed after each step: `[[], ["prerouting"], ["prerouting", "input"]]`.
  static let pathPrefixes: [[[String]]] = routes.map { route in
    (0...route.count).map { route.prefix($0).map(\.rawValue) }
  }
  /// The path assumption alone, per (given or inferred) and hook.
  static let pathAssumptionLists: [[[String]]] = [false, true].map { given in
    Hook.allCases.map { [pathAssumption($0, given: given)] }
  }

  /// What a run without topology takes for granted about the path, made once per hook.
  static func pathAssumption(_ hook: Hook, given: Bool) -> String {
    given ? givenPathAssumptions[hook.ordinal] : inferredPathAssumptions[hook.ordinal]
  }
  static let givenPathAssumptions = Hook.allCases.map {
    "no topology: the packet takes the \($0.rawValue) path (--hook)"
  }
  static let inferredPathAssumptions = Hook.allCases.map {
    "no topology and no --hook: the packet takes the \($0.rawValue) path"
  }

  func inferredHook(_ packet: Packet) -> Hook {
    if packet.inputInterface != nil && packet.outputInterface != nil { return .forward }
    if packet.outputInterface != nil { return .output }
    return .input
  }

  func finish(
    _ verdict: Simulation.Verdict, _ decision: Decision?, _ state: inout RunState, reason: String? = nil
  ) -> Simulation {
    state.result(verdict, decision, reason: reason)
  }

  func firewall(_ namespace: String) -> NamespaceFirewall {
    firewalls[namespace] ?? NamespaceFirewall(name: namespace, ruleset: Ruleset())
  }
}
