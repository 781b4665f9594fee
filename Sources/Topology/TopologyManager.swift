import CNftnl
import NetfilterModel

#if canImport(Glibc)
  import Glibc
#endif

/// Brings a declared topology up and down, idempotently, and compares it with the live state.
public struct TopologyManager {
  public let topology: Topology
  /// Prepended to every namespace name (`fbt-123-` makes `RED` into `fbt-123-RED`).
  public let prefix: String

  public init(_ topology: Topology, prefix: String = "") {
    self.topology = topology
    self.prefix = prefix
  }

  /// The real namespace name of a declared one.
  public func name(_ namespace: String) -> String { prefix + namespace }

  /// One change `up` made, for its report and its undo.
  public enum Change: Equatable, Sendable, CustomStringConvertible {
    case createdNamespace(String)
    case createdLink(String, in: String)
    case setMaster(String, master: String, in: String)
    case addedAddress(String, dev: String, in: String)
    case setUp(String, in: String)
    case addedRoute(String, in: String)
    case setSysctl(String, in: String)
    case removedAddress(String, dev: String, in: String)

    public var description: String {
      switch self {
      case .createdNamespace(let n): return "created namespace \(n)"
      case .createdLink(let l, let n): return "created link \(l) in \(n)"
      case .setMaster(let l, let m, let n): return "set \(l) master \(m) in \(n)"
      case .addedAddress(let a, let d, let n): return "added address \(a) on \(d) in \(n)"
      case .setUp(let l, let n): return "set \(l) up in \(n)"
      case .addedRoute(let r, let n): return "added route \(r) in \(n)"
      case .setSysctl(let s, let n): return "set \(s) in \(n)"
      case .removedAddress(let a, let d, let n): return "removed undeclared address \(a) from \(d) in \(n)"
      }
    }
  }

  /// Creates what is missing and changes what differs; returns what it did (empty: nothing to do).
  /// If a step fails, everything this run created is removed again and the error names the object.
  public func up() throws -> [Change] {
    var changes: [Change] = []
    var reverts: [() -> Void] = []
    do {
      try apply(&changes, &reverts)
      return changes
    } catch {
      for revert in reverts.reversed() { revert() }
      undo(changes)
      throw error
    }
  }

  func apply(_ changes: inout [Change], _ reverts: inout [() -> Void]) throws {
    for ns in topology.namespaces where !NetworkNamespace.exists(name(ns.name)) {
      // A leftover placeholder file from a crashed run would make creation fail; clear it.
      try? NetworkNamespace.delete(name(ns.name))
      try NetworkNamespace.create(name(ns.name))
      changes.append(.createdNamespace(name(ns.name)))
    }
    var sockets: [String: RouteSocket] = [:]
    func socket(_ ns: String) throws -> RouteSocket {
      if let s = sockets[ns] { return s }
      let s = try RouteSocket(namespace: name(ns))
      sockets[ns] = s
      return s
    }
    func live(_ ns: String) throws -> LiveNamespace { try LiveNamespace.read(try socket(ns)) }

    for b in topology.bridges where try live(b.namespace).link(b.name) == nil {
      try socket(b.namespace).request(
        RTNetlink.newBridge(b.name), operation: "add bridge", object: "\(b.name) in \(name(b.namespace))")
      changes.append(.createdLink(b.name, in: name(b.namespace)))
    }
    for v in topology.veths {
      let here = try live(v.namespace).link(v.name)
      let there = try live(v.peerNamespace).link(v.peer)
      if here != nil && there != nil { continue }
      if here != nil || there != nil {
        let (existing, ns) = here != nil ? (v.name, v.namespace) : (v.peer, v.peerNamespace)
        throw NetlinkError(
          errno: EEXIST, operation: "add veth",
          object:
            "\(v.name) in \(name(v.namespace)) (\(existing) in \(name(ns)) exists without its declared peer; delete it)"
        )
      }
      let peerFD = open(NetworkNamespace.path(name(v.peerNamespace)), O_RDONLY)
      guard peerFD >= 0 else {
        throw NetlinkError(errno: errno, operation: "open namespace", object: name(v.peerNamespace))
      }
      defer { close(peerFD) }
      let sameNamespace = v.namespace == v.peerNamespace
      try socket(v.namespace).request(
        RTNetlink.newVeth(v.name, peer: v.peer, peerNamespaceFD: sameNamespace ? nil : peerFD), operation: "add veth",
        object: "\(v.name) in \(name(v.namespace))")
      changes.append(.createdLink(v.name, in: name(v.namespace)))
    }
    for i in topology.interfaces {
      guard let master = i.master else { continue }
      let state = try live(i.namespace)
      guard let link = state.link(i.name), let bridge = state.link(master) else { continue }
      if link.masterIndex != bridge.index {
        try socket(i.namespace).request(
          RTNetlink.setMaster(index: link.index, master: bridge.index), operation: "set master",
          object: "\(master) of \(i.name) in \(name(i.namespace))")
        changes.append(.setMaster(i.name, master: master, in: name(i.namespace)))
      }
    }
    for a in topology.addresses {
      let state = try live(a.namespace)
      guard let link = state.link(a.device) else {
        throw NetlinkError(
          errno: ENODEV, operation: "add address", object: "\(a.address) on \(a.device) in \(name(a.namespace))")
      }
      if state.addresses.contains(where: { $0.index == link.index && $0.address == a.address }) { continue }
      let s = try socket(a.namespace)
      try s.request(
        RTNetlink.newAddress(a.address, index: link.index), operation: "add address",
        object: "\(a.address) on \(a.device) in \(name(a.namespace))")
      changes.append(.addedAddress(a.address.description, dev: a.device, in: name(a.namespace)))
      reverts.append {
        try? s.request(
          RTNetlink.newAddress(a.address, index: link.index, delete: true), operation: "delete address", object: "")
      }
    }
    // Addresses on declared interfaces that the topology does not declare (a changed prefix
    // length, a leftover) are removed: up makes the live state what the policy says.
    for i in topology.interfaces {
      let state = try live(i.namespace)
      guard let link = state.link(i.name) else { continue }
      let declared = topology.addresses.filter { $0.namespace == i.namespace && $0.device == i.name }.map(\.address)
      for a in state.addresses where a.index == link.index && !a.isLinkScope && !declared.contains(a.address) {
        let s = try socket(i.namespace)
        try s.request(
          RTNetlink.newAddress(a.address, index: link.index, delete: true), operation: "remove address",
          object: "\(a.address) from \(i.name) in \(name(i.namespace))")
        changes.append(.removedAddress(a.address.description, dev: i.name, in: name(i.namespace)))
        reverts.append {
          try? s.request(RTNetlink.newAddress(a.address, index: link.index), operation: "restore address", object: "")
        }
      }
    }
    for ns in topology.namespaces {
      let state = try live(ns.name)
      let declared = Set(topology.interfaces.filter { $0.namespace == ns.name }.map(\.name) + ["lo"])
      for link in state.links where declared.contains(link.name) && !link.isUp {
        try socket(ns.name).request(
          RTNetlink.setUp(index: link.index), operation: "set up", object: "\(link.name) in \(name(ns.name))")
        changes.append(.setUp(link.name, in: name(ns.name)))
      }
    }
    for r in topology.routes {
      let state = try live(r.namespace)
      let index = r.device.flatMap { state.link($0)?.index }
      if r.device != nil && index == nil {
        throw NetlinkError(errno: ENODEV, operation: "add route", object: "\(routeText(r)) in \(name(r.namespace))")
      }
      let same = state.routes.first { $0.version == r.version && $0.destination == r.destination }
      if let same, same.gateway == r.gateway, index == nil || same.outputIndex == index { continue }
      // A route to the same destination with another gateway or device is replaced.
      let s = try socket(r.namespace)
      try s.request(
        RTNetlink.newRoute(r, outputIndex: index, replace: same != nil),
        operation: same == nil ? "add route" : "replace route", object: "\(routeText(r)) in \(name(r.namespace))")
      changes.append(.addedRoute(routeText(r), in: name(r.namespace)))
      reverts.append {
        if let same {
          let old = RouteSpec(
            destination: same.destination, version: same.version, gateway: same.gateway, device: nil,
            namespace: r.namespace)
          try? s.request(
            RTNetlink.newRoute(old, outputIndex: same.outputIndex, replace: true), operation: "restore route",
            object: "")
        } else {
          try? s.request(RTNetlink.newRoute(r, outputIndex: index, delete: true), operation: "delete route", object: "")
        }
      }
    }
    for s in topology.sysctls {
      let current = try Sysctl.read(s.key, in: name(s.namespace))
      guard let current else {
        throw NetlinkError(errno: ENOENT, operation: "set sysctl", object: "\(s.key) in \(name(s.namespace))")
      }
      if current == s.value { continue }
      try Sysctl.write(s.key, s.value, in: name(s.namespace))
      changes.append(.setSysctl("\(s.key) = \(s.value)", in: name(s.namespace)))
      let namespace = name(s.namespace)
      reverts.append { try? Sysctl.write(s.key, current, in: namespace) }
    }
  }

  func routeText(_ r: RouteSpec) -> String {
    var s = r.destination?.description ?? (r.version == .v4 ? "default" : "default (IPv6)")
    if let g = r.gateway { s += " via \(g)" }
    if let d = r.device { s += " dev \(d)" }
    return s
  }

  /// Removes what a failed `up` created: namespaces (with everything in them), then links it
  /// created in namespaces that existed before.
  func undo(_ changes: [Change]) {
    var createdNamespaces = Set<String>()
    for change in changes {
      if case .createdNamespace(let n) = change { createdNamespaces.insert(n) }
    }
    // Every link this run created is deleted explicitly, also in namespaces about to go: the
    // kernel dismantles a namespace asynchronously, and a veth peer in a surviving namespace would
    // linger for a moment and make an immediate retry fail.
    for change in changes.reversed() {
      guard case .createdLink(let link, let ns) = change else { continue }
      if let socket = try? RouteSocket(namespace: ns), let state = try? LiveNamespace.read(socket),
        let l = state.link(link)
      {
        try? socket.request(RTNetlink.deleteLink(index: l.index), operation: "delete link", object: link)
      }
    }
    for n in createdNamespaces { try? NetworkNamespace.delete(n) }
  }

  /// Removes the declared namespaces (their links go with them). Returns the ones removed.
  /// Equivalent to `ip netns del` for each.
  public func down() throws -> [String] {
    var removed: [String] = []
    for ns in topology.namespaces where NetworkNamespace.exists(name(ns.name)) {
      try NetworkNamespace.delete(name(ns.name))
      removed.append(name(ns.name))
    }
    return removed
  }
}
