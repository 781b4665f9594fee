import NetfilterModel

extension Resolver {
  /// `topology { namespace …; bridge …; veth …; address …; route …; sysctl … }`
  mutating func processTopology(_ block: SyntaxBlock) {
    let keyword = block.header[0]
    if block.header.count > 1 {
      diagnostics.append(.error("unexpected '\(block.header[1])' after 'topology'", at: block.header[1].location))
    }
    if let earlier = topologyLocation {
      diagnostics.append(
        .error(
          "topology is already declared", at: keyword.location,
          notes: [.init("previous declaration is here", at: earlier)]))
      return
    }
    topologyLocation = keyword.location
    var topo = Topology(location: keyword.location)
    // Addresses and routes without `in NS` take the namespace of their device, found once all
    // interfaces are known.
    var pendingDevices: [(isRoute: Bool, index: Int, device: Token)] = []
    for child in block.children {
      guard case .line(let line) = child else {
        diagnostics.append(.error("blocks are not allowed inside topology", at: child.firstToken.location))
        continue
      }
      do {
        let tokens = try expand(line.tokens)
        var c = TokenCursor(tokens)
        let first = c.next()!
        switch first.kind == .word ? first.text : "" {
        case "namespace":
          let name = try namespaceName(&c)
          topo.namespaces.append(NamespaceSpec(name: name.text, location: first.location))
        case "bridge":
          let name = try interfaceName(&c)
          let ns = try inNamespace(&c, required: true)!
          topo.bridges.append(BridgeSpec(name: name.text, namespace: ns.text, location: name.location))
        case "veth":
          let name = try interfaceName(&c)
          let ns = try inNamespace(&c, required: true)!
          let master = try masterName(&c)
          try c.expect(word: "peer", context: " in veth declaration")
          let peer = try interfaceName(&c)
          let peerNS = try inNamespace(&c, required: true)!
          let peerMaster = try masterName(&c)
          topo.veths.append(
            VethSpec(
              name: name.text, namespace: ns.text, master: master, peer: peer.text, peerNamespace: peerNS.text,
              peerMaster: peerMaster, location: name.location, peerLocation: peer.location))
        case "address":
          let a = try c.expectWord("an address like 11.11.11.2/24")
          let address = try interfaceAddress(a)
          try c.expect(word: "dev", context: " after the address")
          let dev = try interfaceName(&c)
          let ns = try inNamespace(&c, required: false)
          topo.addresses.append(
            AddressSpec(address: address, device: dev.text, namespace: ns?.text ?? "", location: first.location))
          if ns == nil { pendingDevices.append((false, topo.addresses.count - 1, dev)) }
        case "route":
          let d = try c.expectWord("'default' or a prefix")
          var destination: IPPrefix?
          var version = IPVersion.v4
          if d.text == "default" || d.text == "default6" {
            version = d.text == "default" ? .v4 : .v6
          } else {
            guard case .prefix(let p) = try ValueParser.addressElement(d) else {
              throw Diagnostic.error("route destination must be a prefix, not a range", at: d.location)
            }
            destination = p
            version = p.version
          }
          var gateway: IPAddress?
          var device: Token?
          var ns: Token?
          while let t = c.peek {
            if c.accept(word: "via") {
              let g = try c.expectWord("a gateway address")
              guard let ga = IPAddress(g.text) else {
                throw Diagnostic.error("'\(g.text)' is not a gateway address", at: g.location)
              }
              if ga.version != version {
                throw Diagnostic.error("gateway \(g.text) is not of the route's address family", at: g.location)
              }
              gateway = ga
            } else if c.accept(word: "dev") {
              device = try interfaceName(&c)
            } else if t.isWord("in") {
              ns = try inNamespace(&c, required: true)
            } else {
              throw Diagnostic.error("unexpected '\(t)' in route (via, dev, in)", at: t.location)
            }
          }
          if gateway == nil && device == nil {
            throw Diagnostic.error("a route needs 'via GATEWAY' or 'dev DEVICE'", at: first.location)
          }
          if ns == nil && device == nil {
            throw Diagnostic.error(
              "a route needs 'in NAMESPACE' or 'dev DEVICE' to know where it goes", at: first.location)
          }
          topo.routes.append(
            RouteSpec(
              destination: destination, version: version, gateway: gateway, device: device?.text,
              namespace: ns?.text ?? "", location: first.location))
          if ns == nil, let device { pendingDevices.append((true, topo.routes.count - 1, device)) }
        case "sysctl":
          let ns = try namespaceName(&c)
          let key = try c.expectWord("a sysctl key like net.ipv4.ip_forward")
          guard key.text.hasPrefix("net."), key.text.split(separator: ".").count >= 3,
            !key.text.contains("/"), !key.text.contains("..")
          else {
            throw Diagnostic.error(
              "'\(key.text)' is not a network sysctl (net.…); only per-namespace net.* keys can be set",
              at: key.location)
          }
          guard c.accept(punct: "=") else {
            throw Diagnostic.error("expected '=' after the sysctl key", at: c.location)
          }
          let value = try c.expectName("a value")
          topo.sysctls.append(
            SysctlSpec(namespace: ns.text, key: key.text, value: value.text, location: first.location))
        default:
          throw Diagnostic.error(
            "expected namespace, bridge, veth, address, route or sysctl in topology, found '\(first)'",
            at: first.location)
        }
        if let extra = c.peek { throw Diagnostic.error("unexpected '\(extra)'", at: extra.location) }
      } catch let d as Diagnostic {
        diagnostics.append(d)
      } catch {}
    }
    let interfaces = topo.interfaces
    for pending in pendingDevices {
      let owners = interfaces.filter { $0.name == pending.device.text }
      if owners.count == 1 {
        if pending.isRoute {
          topo.routes[pending.index].namespace = owners[0].namespace
        } else {
          topo.addresses[pending.index].namespace = owners[0].namespace
        }
      } else if owners.isEmpty {
        diagnostics.append(
          .error("interface '\(pending.device.text)' is not declared in the topology", at: pending.device.location))
      } else {
        diagnostics.append(
          .error(
            "interface '\(pending.device.text)' exists in several namespaces (\(owners.map(\.namespace).joined(separator: ", "))); add 'in NAMESPACE'",
            at: pending.device.location))
      }
    }
    topo.addresses.removeAll { $0.namespace.isEmpty }
    topo.routes.removeAll { $0.namespace.isEmpty }
    topology = topo
  }

  func namespaceName(_ c: inout TokenCursor) throws -> Token {
    let t = try c.expectName("a namespace name")
    let ok =
      !t.text.isEmpty && t.text.utf8.count <= 64 && t.text != "." && t.text != ".."
      && t.text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
    if !ok {
      throw Diagnostic.error(
        "bad namespace name '\(t.text)': use at most 64 letters, digits, '_', '-' or '.'", at: t.location)
    }
    return t
  }

  func interfaceName(_ c: inout TokenCursor) throws -> Token {
    let t = try c.expectName("an interface name")
    try ValueParser.checkInterfaceName(t.text, t)
    return t
  }

  func inNamespace(_ c: inout TokenCursor, required: Bool) throws -> Token? {
    guard c.accept(word: "in") else {
      if required { throw Diagnostic.error("expected 'in NAMESPACE'\(c.foundDescription)", at: c.location) }
      return nil
    }
    return try namespaceName(&c)
  }

  func masterName(_ c: inout TokenCursor) throws -> String? {
    guard c.accept(word: "master") else { return nil }
    return try interfaceName(&c).text
  }

  func interfaceAddress(_ t: Token) throws -> InterfaceAddress {
    guard let slash = t.text.firstIndex(of: "/") else {
      throw Diagnostic.error("'\(t.text)' needs a prefix length, like 11.11.11.2/24", at: t.location)
    }
    guard let a = IPAddress(t.text[..<slash]) else {
      throw Diagnostic.error("'\(t.text[..<slash])' is not an IPv4 or IPv6 address", at: t.location)
    }
    guard let len = Int(t.text[t.text.index(after: slash)...]), len >= 0, len <= a.bitWidth else {
      throw Diagnostic.error("bad prefix length in \(t.text): 0 to \(a.bitWidth)", at: t.location)
    }
    return InterfaceAddress(address: a, prefixLength: len)
  }
}

/// Checks a topology as a whole: names unique, references declared, bridges where their ports are.
struct TopologyValidator {
  let topology: Topology

  func validate() -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    var namespaces: [String: SourceLocation] = [:]
    for ns in topology.namespaces {
      if let earlier = namespaces[ns.name] {
        diagnostics.append(
          .error(
            "namespace '\(ns.name)' is already declared", at: ns.location,
            notes: [.init("previous declaration is here", at: earlier)]))
      } else {
        namespaces[ns.name] = ns.location
      }
    }
    func checkNamespace(_ name: String, _ location: SourceLocation) {
      if namespaces[name] == nil {
        diagnostics.append(.error("namespace '\(name)' is not declared in the topology", at: location))
      }
    }
    var interfaces: [String: InterfaceSpec] = [:]
    for i in topology.interfaces {
      checkNamespace(i.namespace, i.location)
      let key = i.namespace + "/" + i.name
      if let earlier = interfaces[key] {
        diagnostics.append(
          .error(
            "interface '\(i.name)' is already declared in namespace '\(i.namespace)'", at: i.location,
            notes: [.init("previous declaration is here", at: earlier.location)]))
      } else {
        interfaces[key] = i
      }
    }
    for i in topology.interfaces {
      guard let master = i.master else { continue }
      guard let bridge = interfaces[i.namespace + "/" + master], bridge.kind == .bridge else {
        diagnostics.append(
          .error(
            "master '\(master)' of '\(i.name)' is not a bridge declared in namespace '\(i.namespace)'", at: i.location))
        continue
      }
    }
    for a in topology.addresses {
      checkNamespace(a.namespace, a.location)
      if interfaces[a.namespace + "/" + a.device] == nil && a.device != "lo" {
        diagnostics.append(
          .error(
            "address on interface '\(a.device)', which namespace '\(a.namespace)' does not declare", at: a.location))
      }
    }
    for r in topology.routes {
      checkNamespace(r.namespace, r.location)
      if let d = r.device, interfaces[r.namespace + "/" + d] == nil && d != "lo" {
        diagnostics.append(
          .error("route via interface '\(d)', which namespace '\(r.namespace)' does not declare", at: r.location))
      }
    }
    for s in topology.sysctls { checkNamespace(s.namespace, s.location) }
    return diagnostics
  }
}
