/// The network a policy's rules live in: namespaces, bridges, veth pairs, addresses, routes, sysctls.
///
/// Equivalent to what the seed builds by hand with `ip netns add`, `ip link add … type veth`,
/// `ip link add br0 type bridge`, `ip addr add`, `ip route add` and `sysctl -w` in each namespace.
public struct Topology: Hashable, Sendable {
  public var namespaces: [NamespaceSpec]
  public var bridges: [BridgeSpec]
  public var veths: [VethSpec]
  public var addresses: [AddressSpec]
  public var routes: [RouteSpec]
  public var sysctls: [SysctlSpec]
  public var location: SourceLocation

  public init(
    namespaces: [NamespaceSpec] = [], bridges: [BridgeSpec] = [], veths: [VethSpec] = [],
    addresses: [AddressSpec] = [], routes: [RouteSpec] = [], sysctls: [SysctlSpec] = [],
    location: SourceLocation = .unknown
  ) {
    self.namespaces = namespaces
    self.bridges = bridges
    self.veths = veths
    self.addresses = addresses
    self.routes = routes
    self.sysctls = sysctls
    self.location = location
  }

  /// Every interface the topology declares (bridges and both ends of each veth), with its namespace.
  public var interfaces: [InterfaceSpec] {
    var result: [InterfaceSpec] = []
    for b in bridges {
      result.append(InterfaceSpec(name: b.name, namespace: b.namespace, kind: .bridge, location: b.location))
    }
    for v in veths {
      result.append(
        InterfaceSpec(
          name: v.name, namespace: v.namespace, kind: .veth(peer: v.peer), master: v.master, location: v.location))
      result.append(
        InterfaceSpec(
          name: v.peer, namespace: v.peerNamespace, kind: .veth(peer: v.name), master: v.peerMaster,
          location: v.peerLocation))
    }
    return result
  }
}

/// `namespace RED`: a network namespace (`ip netns add RED`).
public struct NamespaceSpec: Hashable, Sendable {
  public var name: String
  public var location: SourceLocation
  public init(name: String, location: SourceLocation = .unknown) {
    self.name = name
    self.location = location
  }
}

/// `bridge br0 in host` (`ip link add br0 type bridge`).
public struct BridgeSpec: Hashable, Sendable {
  public var name: String
  public var namespace: String
  public var location: SourceLocation
  public init(name: String, namespace: String, location: SourceLocation = .unknown) {
    self.name = name
    self.namespace = namespace
    self.location = location
  }
}

/// `veth reth0 in RED peer reth1 in host master br0`
/// (`ip link add reth0 netns RED type veth peer name reth1 netns host`, `ip link set reth1 master br0`).
public struct VethSpec: Hashable, Sendable {
  public var name: String
  public var namespace: String
  /// The bridge this end is a port of.
  public var master: String?
  public var peer: String
  public var peerNamespace: String
  public var peerMaster: String?
  public var location: SourceLocation
  public var peerLocation: SourceLocation
  public init(
    name: String, namespace: String, master: String? = nil, peer: String, peerNamespace: String,
    peerMaster: String? = nil, location: SourceLocation = .unknown,
    peerLocation: SourceLocation = .unknown
  ) {
    self.name = name
    self.namespace = namespace
    self.master = master
    self.peer = peer
    self.peerNamespace = peerNamespace
    self.peerMaster = peerMaster
    self.location = location
    self.peerLocation = peerLocation
  }
}

/// An interface as the topology declares it.
public struct InterfaceSpec: Hashable, Sendable {
  public enum Kind: Hashable, Sendable {
    case bridge
    case veth(peer: String)
  }
  public var name: String
  public var namespace: String
  public var kind: Kind
  public var master: String?
  public var location: SourceLocation
  public init(
    name: String, namespace: String, kind: Kind, master: String? = nil,
    location: SourceLocation = .unknown
  ) {
    self.name = name
    self.namespace = namespace
    self.kind = kind
    self.master = master
    self.location = location
  }
}

/// `address 11.11.11.2/24 dev reth0 [in RED]` (`ip addr add 11.11.11.2/24 dev reth0`).
public struct AddressSpec: Hashable, Sendable {
  public var address: InterfaceAddress
  public var device: String
  public var namespace: String
  public var location: SourceLocation
  public init(
    address: InterfaceAddress, device: String, namespace: String,
    location: SourceLocation = .unknown
  ) {
    self.address = address
    self.device = device
    self.namespace = namespace
    self.location = location
  }
}

/// `route default via 11.11.11.1 dev reth0 in RED` (`ip route add default via 11.11.11.1`).
public struct RouteSpec: Hashable, Sendable {
  /// nil for `default`.
  public var destination: IPPrefix?
  public var version: IPVersion
  public var gateway: IPAddress?
  public var device: String?
  public var namespace: String
  public var location: SourceLocation
  public init(
    destination: IPPrefix?, version: IPVersion, gateway: IPAddress?, device: String?,
    namespace: String, location: SourceLocation = .unknown
  ) {
    self.destination = destination
    self.version = version
    self.gateway = gateway
    self.device = device
    self.namespace = namespace
    self.location = location
  }
}

/// `sysctl host net.ipv4.ip_forward = 1` (`ip netns exec host sysctl -w net.ipv4.ip_forward=1`).
public struct SysctlSpec: Hashable, Sendable {
  public var namespace: String
  public var key: String
  public var value: String
  public var location: SourceLocation
  public init(namespace: String, key: String, value: String, location: SourceLocation = .unknown) {
    self.namespace = namespace
    self.key = key
    self.value = value
    self.location = location
  }
}
