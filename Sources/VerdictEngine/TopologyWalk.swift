import NetfilterModel

/// Follows a packet across the namespaces of a topology: out of the sender (output, postrouting),
/// over veth links and bridges (with br_netfilter's ip hooks in the bridge's namespace), into the
/// receiver (prerouting, then input or forward), hop by hop.
struct TopologyWalk {
  let simulator: Simulator
  let network: Network

  /// More hops than this is a routing loop.
  static let maximumHops = 32

  func run(_ request: Simulator.Request, _ state: inout RunState) throws -> Simulation {
    var packet = request.packet
    let from: String
    if let f = request.from {
      guard network.namespaces.contains(f) else {
        throw Simulator.RequestError(
          message: "namespace '\(f)' is not in the topology (it has: \(network.namespaces.joined(separator: ", ")))")
      }
      from = f
    } else if let source = packet.source, let owner = network.owners(of: source).first(where: { _ in true }) {
      from = owner
    } else {
      throw Simulator.RequestError(
        message: "give --from NAMESPACE (or a --src address that a namespace of the topology owns)")
    }
    state.sent = packet
    if packet.kind == .arp { return arp(packet, from: from, state) }
    guard let version = packet.version else { return done(.unknown, nil, &state, reason: "not an IP packet") }

    // Leave the sender.
    if network.owns(from, packet.destination) {
      // Local traffic loops through lo.
      if packet.source == nil { packet.source = packet.destination }
      state.sent = packet
      packet.outputInterface = "lo"
      packet.inputInterface = ""
      for hook in [Hook.output, .postrouting] {
        if let end = runHook(from, hook, &packet, &state) { return end }
      }
      packet.inputInterface = "lo"
      packet.outputInterface = nil
      return arrive(at: from, &packet, &state, hops: 0, alreadyRouted: true)
    }
    guard let route = network.route(from, to: packet.destination) else {
      return done(
        .drop, nil, &state,
        reason: "no route to \(packet.destination) in namespace \(from) (the kernel answers 'Network is unreachable')")
    }
    if packet.source == nil {
      guard let a = network.address(from, route.interface, version) else {
        return done(.drop, nil, &state, reason: "\(route.interface) in \(from) has no address to send from")
      }
      packet.source = a
    }
    state.sent = packet
    packet.inputInterface = ""
    packet.outputInterface = route.interface
    for hook in [Hook.output, .postrouting] {
      if let end = runHook(from, hook, &packet, &state) { return end }
    }
    return transmit(from, route, &packet, &state, hops: 0)
  }

  /// Runs one hook in a namespace; a final outcome ends the walk.
  func runHook(_ namespace: String, _ hook: Hook, _ packet: inout Packet, _ state: inout RunState) -> Simulation? {
    let context = NetworkContext(
      addressOf: { [network] name, version in network.address(namespace, name, version) },
      addressType: { [network] address in network.addressType(namespace, address) })
    switch simulator.firewall(namespace).run(hook: hook, packet: &packet, state: &state, topology: context) {
    case .pass: return nil
    case .drop(let d): return done(.drop, d, &state)
    case .reject(let d): return done(.reject, d, &state)
    case .unknown(let why): return done(.unknown, nil, &state, reason: why)
    }
  }

  /// Sends the packet out of `route.interface` in `namespace` toward `route.nextHop`.
  func transmit(
    _ namespace: String, _ route: Network.Route, _ packet: inout Packet, _ state: inout RunState, hops: Int
  ) -> Simulation {
    guard hops < TopologyWalk.maximumHops else {
      return done(.drop, nil, &state, reason: "more than \(TopologyWalk.maximumHops) hops: a routing loop")
    }
    guard let out = network.interface(namespace, route.interface) else {
      return done(.unknown, nil, &state, reason: "interface \(route.interface) is not in the topology")
    }
    switch out.kind {
    case .loopback:
      return done(.unknown, nil, &state, reason: "a route through lo to a foreign address")
    case .bridge:
      // Sent from the bridge's own namespace: the bridge delivers the frame to a port; locally
      // generated traffic does not run the ip forward hook.
      guard let (port, receiver) = findPort(bridge: out.name, in: namespace, owning: route.nextHop, excluding: nil)
      else {
        return unreachable(route.nextHop, namespace, state)
      }
      _ = port
      return deliver(to: receiver, &packet, &state, hops: hops)
    case .veth(let peer, let peerNamespace):
      guard let far = network.interface(peerNamespace, peer) else {
        return done(.unknown, nil, &state, reason: "veth peer \(peer) is not in the topology")
      }
      if let bridge = far.master {
        return bridged(into: bridge, in: peerNamespace, via: far, route.nextHop, &packet, &state, hops: hops)
      }
      guard
        far.addresses.contains(where: { $0.address == route.nextHop })
          || network.owns(peerNamespace, route.nextHop)
            && far.addresses.contains(where: { $0.network.contains(route.nextHop) })
      else {
        return unreachable(route.nextHop, namespace, state)
      }
      return deliver(to: far, &packet, &state, hops: hops)
    }
  }

  /// A frame enters bridge `bridge` in `namespace` through `port`.
  func bridged(
    into bridge: String, in namespace: String, via port: Network.Interface, _ nextHop: IPAddress,
    _ packet: inout Packet, _ state: inout RunState, hops: Int
  ) -> Simulation {
    // The bridge itself owns the next hop: the packet goes up the bridge's namespace stack.
    if network.interface(namespace, bridge)?.addresses.contains(where: { $0.address == nextHop }) == true {
      packet.bridgePortIn = port.name
      packet.bridgePortOut = nil
      packet.inputInterface = bridge
      packet.outputInterface = nil
      return arrive(at: namespace, &packet, &state, hops: hops + 1, alreadyRouted: false)
    }
    guard let (outPort, receiver) = findPort(bridge: bridge, in: namespace, owning: nextHop, excluding: port.name)
    else {
      return unreachable(nextHop, namespace, state)
    }
    guard let version = packet.version else { return done(.unknown, nil, &state, reason: "not an IP packet") }
    if network.bridgeCallsIPHooks(namespace, version) {
      // br_netfilter: the bridged packet runs the namespace's ip hooks with the bridge as both
      // interfaces; physdev matches see the ports. No ip_forward needed.
      packet.inputInterface = bridge
      packet.outputInterface = bridge
      packet.bridgePortIn = port.name
      packet.bridgePortOut = nil
      if let end = runHook(namespace, .prerouting, &packet, &state) { return end }
      packet.bridgePortOut = outPort.name
      for hook in [Hook.forward, .postrouting] {
        if let end = runHook(namespace, hook, &packet, &state) { return end }
      }
    } else {
      state.assume(
        "\(namespace): net.bridge.bridge-nf-call-\(version == .v4 ? "iptables" : "ip6tables") = 0, so bridged traffic skips the ip hooks"
      )
    }
    packet.bridgePortIn = nil
    packet.bridgePortOut = nil
    return deliver(to: receiver, &packet, &state, hops: hops + 1)
  }

  /// The port of a bridge whose far side (the veth peer) owns `address`, and that far interface.
  func findPort(
    bridge: String, in namespace: String, owning address: IPAddress, excluding: String?
  ) -> (Network.Interface, Network.Interface)? {
    for port in network.ports(of: bridge, in: namespace) where port.name != excluding {
      guard case .veth(let peer, let peerNamespace) = port.kind, let far = network.interface(peerNamespace, peer) else {
        continue
      }
      if far.addresses.contains(where: { $0.address == address }) { return (port, far) }
      if let deeper = far.master,
        findPort(bridge: deeper, in: peerNamespace, owning: address, excluding: far.name) != nil
      {
        return (port, far)
      }
    }
    return nil
  }

  /// The packet arrives on interface `receiver` (a veth end) in its namespace.
  func deliver(to receiver: Network.Interface, _ packet: inout Packet, _ state: inout RunState, hops: Int) -> Simulation
  {
    if let bridge = receiver.master {
      return bridged(
        into: bridge, in: receiver.namespace, via: receiver, packet.destination, &packet, &state, hops: hops)
    }
    packet.inputInterface = receiver.name
    packet.outputInterface = nil
    packet.bridgePortIn = nil
    packet.bridgePortOut = nil
    return arrive(at: receiver.namespace, &packet, &state, hops: hops + 1, alreadyRouted: false)
  }

  /// Prerouting, the routing decision, then input (delivered) or forward and onward.
  func arrive(
    at namespace: String, _ packet: inout Packet, _ state: inout RunState, hops: Int, alreadyRouted: Bool
  ) -> Simulation {
    guard let version = packet.version else { return done(.unknown, nil, &state, reason: "not an IP packet") }
    if let end = runHook(namespace, .prerouting, &packet, &state) { return end }
    if network.owns(namespace, packet.destination) {
      if let end = runHook(namespace, .input, &packet, &state) { return end }
      state.delivered = (namespace, packet)
      return done(.accept, state.lastRuleAccept ?? state.lastPolicyAccept, &state)
    }
    guard network.forwards(namespace, version) else {
      let key = version == .v4 ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding"
      return done(
        .drop, nil, &state, reason: "\(namespace) does not own \(packet.destination) and does not forward (\(key) = 0)")
    }
    guard let route = network.route(namespace, to: packet.destination) else {
      return done(.drop, nil, &state, reason: "no route to \(packet.destination) in namespace \(namespace)")
    }
    packet.outputInterface = route.interface
    for hook in [Hook.forward, .postrouting] {
      if let end = runHook(namespace, hook, &packet, &state) { return end }
    }
    return transmit(namespace, route, &packet, &state, hops: hops)
  }

  /// ARP: not seen by the ip hooks; it reaches the owner of the address on the same link or not at all.
  func arp(_ packet: Packet, from: String, _ state: RunState) -> Simulation {
    var state = state
    guard let route = network.route(from, to: packet.destination), route.nextHop == packet.destination else {
      return done(
        .drop, nil, &state, reason: "\(packet.destination) is not on a link of \(from): no ARP is sent for it")
    }
    var copy = packet
    // Walk the link without hooks: reuse transmit on a simulator with no firewalls.
    let bare = TopologyWalk(simulator: Simulator(policy: Policy()), network: network)
    copy.kind = .ipv4
    var scratch = RunState()
    let reached = bare.transmit(from, route, &copy, &scratch, hops: 0)
    if reached.verdict == .accept {
      return done(
        .accept, nil, &state, reason: "ARP is not seen by the ip, ip6 and inet hooks; \(packet.destination) answers")
    }
    return done(.drop, nil, &state, reason: "no interface on the link of \(route.interface) owns \(packet.destination)")
  }

  func unreachable(_ address: IPAddress, _ namespace: String, _ state: RunState) -> Simulation {
    var state = state
    return done(
      .drop, nil, &state,
      reason: "no neighbour answers ARP for \(address) from \(namespace) (Destination Host Unreachable)")
  }

  func done(
    _ verdict: Simulation.Verdict, _ decision: Decision?, _ state: inout RunState, reason: String? = nil
  ) -> Simulation {
    state.result(verdict, decision, reason: reason)
  }
}
