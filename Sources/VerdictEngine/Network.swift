import NetfilterModel

/// The topology as the engine walks it: interfaces with addresses, links, routes and sysctls per
/// namespace.
struct Network {
  struct Interface {
    enum Kind {
      case loopback
      case bridge
      case veth(peer: String, peerNamespace: String)
    }
    var name: String
    var namespace: String
    var kind: Kind
    var master: String?
    var addresses: [InterfaceAddress]
  }

  /// A way out of a namespace: the interface and the next hop on its link.
  struct Route {
    var interface: String
    var nextHop: IPAddress
  }

  var namespaces: [String]
  var interfaces: [String: [String: Interface]] = [:]  // namespace -> name -> interface
  var routes: [String: [RouteSpec]] = [:]
  var sysctls: [String: [String: String]] = [:]

  init(_ topology: Topology) {
    namespaces = topology.namespaces.map(\.name)
    for ns in namespaces {
      let loopback = [
        InterfaceAddress(address: IPAddress("127.0.0.1")!, prefixLength: 8),
        InterfaceAddress(address: IPAddress("::1")!, prefixLength: 128),
      ]
      interfaces[ns] = ["lo": Interface(name: "lo", namespace: ns, kind: .loopback, addresses: loopback)]
    }
    for b in topology.bridges {
      interfaces[b.namespace, default: [:]][b.name] = Interface(
        name: b.name, namespace: b.namespace, kind: .bridge, addresses: [])
    }
    for v in topology.veths {
      interfaces[v.namespace, default: [:]][v.name] = Interface(
        name: v.name, namespace: v.namespace, kind: .veth(peer: v.peer, peerNamespace: v.peerNamespace),
        master: v.master, addresses: [])
      interfaces[v.peerNamespace, default: [:]][v.peer] = Interface(
        name: v.peer, namespace: v.peerNamespace, kind: .veth(peer: v.name, peerNamespace: v.namespace),
        master: v.peerMaster, addresses: [])
    }
    for a in topology.addresses {
      interfaces[a.namespace]?[a.device]?.addresses.append(a.address)
    }
    for r in topology.routes { routes[r.namespace, default: []].append(r) }
    for s in topology.sysctls { sysctls[s.namespace, default: [:]][s.key] = s.value }
  }

  func interface(_ namespace: String, _ name: String) -> Interface? { interfaces[namespace]?[name] }

  /// The value of a sysctl in a namespace, or the default of a new namespace.
  func sysctl(_ namespace: String, _ key: String) -> String? {
    if let v = sysctls[namespace]?[key] { return v }
    // Aliases the kernel keeps in step.
    if key == "net.ipv4.ip_forward" { return sysctls[namespace]?["net.ipv4.conf.all.forwarding"] }
    return nil
  }

  func isOn(_ namespace: String, _ key: String, default value: Bool) -> Bool {
    guard let v = sysctl(namespace, key) else { return value }
    return v != "0"
  }

  /// Forwarding between interfaces (off in a new namespace).
  func forwards(_ namespace: String, _ version: IPVersion) -> Bool {
    version == .v4
      ? isOn(namespace, "net.ipv4.ip_forward", default: false)
      : isOn(namespace, "net.ipv6.conf.all.forwarding", default: false)
  }

  /// br_netfilter: bridged IP traffic runs the ip/ip6 hooks (on in a new namespace).
  func bridgeCallsIPHooks(_ namespace: String, _ version: IPVersion) -> Bool {
    isOn(
      namespace, version == .v4 ? "net.bridge.bridge-nf-call-iptables" : "net.bridge.bridge-nf-call-ip6tables",
      default: true)
  }

  /// True when the namespace owns the address (on any interface).
  func owns(_ namespace: String, _ address: IPAddress) -> Bool {
    interfaces[namespace]?.values.contains { i in
      i.addresses.contains { $0.address == address }
        || (i.kind.isLoopback && i.addresses.contains { $0.network.contains(address) })
    } ?? false
  }

  /// What the namespace's local routing table makes of an address, as `inet_addr_type` (and
  /// nft's `fib … type`) reads it: zeronet and 255.255.255.255 are broadcast, 224/4 and ff00::/8
  /// multicast, the namespace's own addresses (all of 127/8 on a loopback) local, an IPv4
  /// subnet's broadcast address broadcast, anything else unicast.
  func addressType(_ namespace: String, _ address: IPAddress) -> AddressType {
    if let special = AddressType.special(address) { return special }
    if owns(namespace, address) { return .local }
    if address.version == .v4,
      interfaces[namespace]?.values.contains(where: { i in
        i.addresses.contains { a in
          a.address.version == .v4 && a.prefixLength <= 30 && a.network.last == address
        }
      }) == true
    {
      return .broadcast
    }
    // IPv6 looks the route up: an address with none is unreachable (`nft_fib6_eval_type`).
    if address.version == .v6 && route(namespace, to: address) == nil { return .unreachable }
    return .unicast
  }

  /// The namespaces that own an address.
  func owners(of address: IPAddress) -> [String] { namespaces.filter { owns($0, address) } }

  /// The first address of an interface for a version.
  func address(_ namespace: String, _ name: String, _ version: IPVersion) -> IPAddress? {
    interface(namespace, name)?.addresses.first { $0.address.version == version }?.address
  }

  /// The route for `destination` in a namespace: connected networks first (longest prefix), then
  /// the declared routes (longest prefix, default last). Equivalent to `ip route get`.
  func route(_ namespace: String, to destination: IPAddress) -> Route? {
    var best: (Int, Route)?
    for i in (interfaces[namespace] ?? [:]).values.sorted(by: { $0.name < $1.name }) where !i.kind.isLoopback {
      for a in i.addresses where a.network.contains(destination) {
        if best == nil || a.prefixLength > best!.0 {
          best = (a.prefixLength, Route(interface: i.name, nextHop: destination))
        }
      }
    }
    if let best { return best.1 }
    var declared: (Int, Route)?
    for r in routes[namespace] ?? [] where r.version == destination.version {
      let length = r.destination?.length ?? 0
      guard r.destination.map({ $0.contains(destination) }) ?? true else { continue }
      if let d = declared, d.0 >= length { continue }
      var device = r.device
      if device == nil, let gateway = r.gateway, let via = route(namespace, to: gateway), via.nextHop == gateway {
        device = via.interface
      }
      guard let device else { continue }
      declared = (length, Route(interface: device, nextHop: r.gateway ?? destination))
    }
    return declared?.1
  }

  /// Bridge ports of a bridge.
  func ports(of bridge: String, in namespace: String) -> [Interface] {
    (interfaces[namespace] ?? [:]).values.filter { $0.master == bridge }.sorted { $0.name < $1.name }
  }
}

extension Network.Interface.Kind {
  var isLoopback: Bool {
    if case .loopback = self { return true }
    return false
  }
}
