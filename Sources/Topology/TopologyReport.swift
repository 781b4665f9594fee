import NetfilterModel

/// The declared topology side by side with the live one: each declared object ok, missing or
/// different, and links that exist but are not declared.
public struct TopologyReport: Sendable {
  public enum Status: String, Sendable { case ok, missing, different, extra }

  public struct Item: Sendable, Equatable {
    public var namespace: String
    public var object: String
    public var status: Status
    public var detail: String
  }

  public var items: [Item]

  /// True when everything declared is live and nothing differs (extra links are allowed).
  public var isUp: Bool { !items.contains { $0.status == .missing || $0.status == .different } }

  public static func compare(_ manager: TopologyManager) -> TopologyReport {
    let topology = manager.topology
    var items: [Item] = []
    for ns in topology.namespaces {
      let real = manager.name(ns.name)
      guard NetworkNamespace.exists(real), let socket = try? RouteSocket(namespace: real),
        let live = try? LiveNamespace.read(socket)
      else {
        items.append(Item(namespace: ns.name, object: "namespace \(real)", status: .missing, detail: "not created"))
        continue
      }
      items.append(Item(namespace: ns.name, object: "namespace \(real)", status: .ok, detail: ""))
      let declared = topology.interfaces.filter { $0.namespace == ns.name }
      for i in declared {
        let kind: String
        switch i.kind {
        case .bridge: kind = "bridge"
        case .veth: kind = "veth"
        }
        guard let link = live.link(i.name) else {
          items.append(Item(namespace: ns.name, object: "\(kind) \(i.name)", status: .missing, detail: ""))
          continue
        }
        var problems: [String] = []
        if link.kind != kind { problems.append("is a \(link.kind ?? "device") link") }
        let master = link.masterIndex.flatMap { live.link(index: $0)?.name }
        if master != i.master { problems.append("master \(master ?? "none"), declared \(i.master ?? "none")") }
        if !link.isUp { problems.append("down") }
        items.append(
          Item(
            namespace: ns.name, object: "\(kind) \(i.name)", status: problems.isEmpty ? .ok : .different,
            detail: problems.joined(separator: "; ")))
      }
      for a in topology.addresses where a.namespace == ns.name {
        let index = live.link(a.device)?.index
        let present = live.addresses.contains { $0.index == index && $0.address == a.address }
        items.append(
          Item(
            namespace: ns.name, object: "address \(a.address) dev \(a.device)", status: present ? .ok : .missing,
            detail: ""))
      }
      for r in topology.routes where r.namespace == ns.name {
        let device = r.device.flatMap { live.link($0)?.index }
        let present = live.routes.contains {
          $0.version == r.version && $0.destination == r.destination && $0.gateway == r.gateway
            && (device == nil || $0.outputIndex == device)
        }
        items.append(
          Item(
            namespace: ns.name, object: "route \(manager.routeText(r))", status: present ? .ok : .missing, detail: ""))
      }
      for s in topology.sysctls where s.namespace == ns.name {
        let value = (try? Sysctl.read(s.key, in: real)) ?? nil
        items.append(
          Item(
            namespace: ns.name, object: "sysctl \(s.key) = \(s.value)", status: value == s.value ? .ok : .different,
            detail: value.map { "live \($0)" } ?? "not available"))
      }
      for i in declared {
        guard let link = live.link(i.name) else { continue }
        let wanted = topology.addresses.filter { $0.namespace == ns.name && $0.device == i.name }.map(\.address)
        for a in live.addresses where a.index == link.index && !a.isLinkScope && !wanted.contains(a.address) {
          items.append(
            Item(
              namespace: ns.name, object: "address \(a.address) dev \(i.name)", status: .different,
              detail: "not declared"))
        }
      }
      let names = Set(declared.map(\.name) + ["lo"])
      for link in live.links where !names.contains(link.name) {
        items.append(
          Item(
            namespace: ns.name, object: "\(link.kind ?? "link") \(link.name)", status: .extra, detail: "not declared"))
      }
    }
    return TopologyReport(items: items)
  }
}

/// Graphviz for a topology: namespaces as clusters, bridges as boxes, veth pairs as edges labelled
/// with their addresses, bridge ports joined to their bridge.
public enum TopologyGraph {
  public static func dot(_ topology: Topology) -> String {
    func id(_ ns: String, _ name: String) -> String { "\"\(ns)/\(name)\"" }
    var lines = [
      "digraph topology {", "  graph [rankdir=LR, fontname=\"Helvetica\"];",
      "  node [fontname=\"Helvetica\", shape=ellipse];", "  edge [dir=none];",
    ]
    for (k, ns) in topology.namespaces.enumerated() {
      lines.append("  subgraph cluster_\(k) {")
      lines.append("    label=\"\(ns.name)\";")
      for i in topology.interfaces where i.namespace == ns.name {
        let addresses = topology.addresses.filter { $0.namespace == ns.name && $0.device == i.name }.map(
          \.address.description)
        let label = ([i.name] + addresses).joined(separator: "\\n")
        let shape = i.kind == .bridge ? ", shape=box, style=rounded" : ""
        lines.append("    \(id(ns.name, i.name)) [label=\"\(label)\"\(shape)];")
      }
      lines.append("  }")
    }
    for v in topology.veths {
      lines.append("  \(id(v.namespace, v.name)) -> \(id(v.peerNamespace, v.peer)) [label=\"veth\"];")
    }
    for i in topology.interfaces {
      if let m = i.master { lines.append("  \(id(i.namespace, i.name)) -> \(id(i.namespace, m)) [style=dashed];") }
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }
}
