import Foundation
import NetfilterModel
import PolicyLanguage
import Testing
import Topology

/// `topology up/down` against the kernel, checked with an independent view (`ip -j`, `bridge -j`).
@Suite(
  .serialized,
  .enabled(if: Kernel.bridgeNetfilter, "the lab needs root, the netfilter tools and br_netfilter (see stderr)"))
struct TopologyKernelTests {
  static func labTopology() throws -> Topology {
    var resolver = Resolver(source: FileSource())
    let (policy, diagnostics) = resolver.resolve(path: Repo.root + "/Rules/lab.policy")
    return try #require(policy?.topology, "\(diagnostics)")
  }

  static func routedTopology() throws -> Topology {
    let text = """
      topology {
        namespace A
        namespace R
        namespace B
        veth a0 in A peer r0 in R
        veth b0 in B peer r1 in R
        address 10.0.1.2/24 dev a0
        address 10.0.1.1/24 dev r0
        address 10.0.2.1/24 dev r1
        address 10.0.2.2/24 dev b0
        address fd00:2::2/64 dev b0
        route default via 10.0.1.1 in A
        route 10.0.1.0/24 via 10.0.2.1 in B
        sysctl R net.ipv4.ip_forward = 1
      }

      """
    var resolver = Resolver(source: MemorySource(["routed.policy": text]))
    let (policy, diagnostics) = resolver.resolve(path: "routed.policy")
    return try #require(policy?.topology, "\(diagnostics)")
  }

  static func prefix() -> String { "fbt-t\(UInt32.random(in: 0...0xffffff))-" }

  func json(_ args: [String]) throws -> [[String: Any]] {
    let r = try run(args)
    guard r.status == 0 else { throw TestFailure("\(args.joined(separator: " ")): \(r.stderr)") }
    return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]) ?? []
  }

  func links(_ ns: String) throws -> [String: [String: Any]] {
    Dictionary(
      uniqueKeysWithValues: try json(["/usr/sbin/ip", "-j", "-d", "-n", ns, "link", "show"]).map {
        ($0["ifname"] as! String, $0)
      })
  }

  func addresses(_ ns: String) throws -> Set<String> {
    var result = Set<String>()
    for link in try json(["/usr/sbin/ip", "-j", "-n", ns, "addr", "show"]) {
      for info in (link["addr_info"] as? [[String: Any]]) ?? [] where (info["scope"] as? String) != "link" {
        if let local = info["local"] as? String, let len = info["prefixlen"] as? Int, local != "127.0.0.1",
          local != "::1"
        {
          result.insert("\(link["ifname"]!) \(local)/\(len)")
        }
      }
    }
    return result
  }

  @Test func upBuildsExactlyTheLabAndIsIdempotent() throws {
    let topology = try Self.labTopology()
    let manager = TopologyManager(topology, prefix: Self.prefix())
    defer { _ = try? manager.down() }
    let first = try manager.up()
    #expect(first.contains(.createdNamespace(manager.name("RED"))))

    let host = try links(manager.name("host"))
    #expect(Set(host.keys) == ["lo", "br0", "reth1", "beth1"])
    #expect((host["br0"]?["linkinfo"] as? [String: Any])?["info_kind"] as? String == "bridge")
    #expect(host["reth1"]?["master"] as? String == "br0")
    #expect(host["beth1"]?["master"] as? String == "br0")
    for name in ["br0", "reth1", "beth1"] {
      #expect((host[name]?["flags"] as? [String])?.contains("UP") == true, "\(name) is not up")
    }
    let bridge = try json(["/usr/sbin/bridge", "-j", "-n", manager.name("host"), "link", "show"])
    #expect(Set(bridge.compactMap { $0["ifname"] as? String }) == ["reth1", "beth1"])
    #expect(Set(try links(manager.name("RED")).keys) == ["lo", "reth0"])
    #expect(try addresses(manager.name("RED")) == ["reth0 11.11.11.2/24"])
    #expect(try addresses(manager.name("BLUE")) == ["beth0 11.11.11.3/24"])
    let sysctl = try run([
      "/usr/sbin/ip", "netns", "exec", manager.name("host"), "/usr/sbin/sysctl", "-n",
      "net.bridge.bridge-nf-call-iptables",
    ])
    #expect(sysctl.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")

    // Up again: nothing to change.
    #expect(try manager.up().isEmpty)
    #expect(TopologyReport.compare(manager).isUp)
  }

  @Test func routesAndSysctlsAndIPv6() throws {
    let manager = TopologyManager(try Self.routedTopology(), prefix: Self.prefix())
    defer { _ = try? manager.down() }
    _ = try manager.up()
    let routesA = try json(["/usr/sbin/ip", "-j", "-n", manager.name("A"), "route", "show"])
    #expect(routesA.contains { $0["dst"] as? String == "default" && $0["gateway"] as? String == "10.0.1.1" })
    let routesB = try json(["/usr/sbin/ip", "-j", "-n", manager.name("B"), "route", "show"])
    #expect(routesB.contains { $0["dst"] as? String == "10.0.1.0/24" && $0["gateway"] as? String == "10.0.2.1" })
    #expect(try addresses(manager.name("B")) == ["b0 10.0.2.2/24", "b0 fd00:2::2/64"])
    let forward = try run([
      "/usr/sbin/ip", "netns", "exec", manager.name("R"), "/usr/sbin/sysctl", "-n", "net.ipv4.ip_forward",
    ])
    #expect(forward.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    // A packet crosses the router: A pings B.
    let ping = try run([
      "/usr/sbin/ip", "netns", "exec", manager.name("A"), "/usr/bin/ping", "-c", "1", "-W", "2", "10.0.2.2",
    ])
    #expect(ping.status == 0, "\(ping.stdout)")
    #expect(try manager.up().isEmpty)
  }

  @Test func upCompletesAHalfBuiltTopology() throws {
    let manager = TopologyManager(try Self.labTopology(), prefix: Self.prefix())
    defer { _ = try? manager.down() }
    // Built partly by hand: the namespaces and the bridge, nothing else.
    for ns in ["host", "RED", "BLUE"] { _ = try run(["/usr/sbin/ip", "netns", "add", manager.name(ns)]) }
    _ = try run(["/usr/sbin/ip", "-n", manager.name("host"), "link", "add", "br0", "type", "bridge"])
    let changes = try manager.up()
    #expect(!changes.contains(.createdNamespace(manager.name("RED"))))
    #expect(!changes.contains(.createdLink("br0", in: manager.name("host"))))
    #expect(changes.contains(.createdLink("reth0", in: manager.name("RED"))))
    #expect(TopologyReport.compare(manager).isUp)
  }

  @Test func aFailingUpLeavesNothingBehind() throws {
    var topology = try Self.labTopology()
    // A route through a gateway on no link: the kernel refuses it (ENETUNREACH) after the
    // namespaces, links and addresses were created.
    topology.routes.append(
      RouteSpec(
        destination: IPPrefix(address: IPAddress("10.99.0.0")!, length: 16), version: .v4,
        gateway: IPAddress("10.50.0.1"), device: nil, namespace: "RED"))
    let manager = TopologyManager(topology, prefix: Self.prefix())
    defer { _ = try? manager.down() }
    #expect {
      _ = try manager.up()
    } throws: { error in
      "\(error)"
        == "cannot add route 10.99.0.0/16 via 10.50.0.1 in \(manager.name("RED")): Network is unreachable (ENETUNREACH)"
    }
    for ns in ["host", "RED", "BLUE"] {
      #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(manager.name(ns))"), "\(ns) was left behind")
    }
  }

  @Test func downRemovesEverythingDeclared() throws {
    let manager = TopologyManager(try Self.labTopology(), prefix: Self.prefix())
    _ = try manager.up()
    let removed = try manager.down()
    #expect(removed.count == 3)
    let names = try run(["/usr/sbin/ip", "netns", "list"]).stdout
    #expect(!names.contains(manager.prefix))
    #expect(try manager.down().isEmpty)
  }

  static func topology(_ text: String) throws -> Topology {
    var resolver = Resolver(source: MemorySource(["t.policy": text]))
    let (policy, diagnostics) = resolver.resolve(path: "t.policy")
    return try #require(policy?.topology, "\(diagnostics)")
  }

  @Test func ipv4AndIPv6DefaultRoutesOnOneDevice() throws {
    let manager = TopologyManager(
      try Self.topology(
        """
        topology {
          namespace X
          namespace Y
          veth x0 in X peer y0 in Y
          address 10.7.0.1/24 dev x0
          address fd00:7::1/64 dev x0
          route default dev x0
          route default6 dev x0
        }

        """), prefix: Self.prefix())
    defer { _ = try? manager.down() }
    _ = try manager.up()
    let v6 = try json(["/usr/sbin/ip", "-6", "-j", "-n", manager.name("X"), "route", "show"])
    #expect(v6.contains { $0["dst"] as? String == "default" })
    let v4 = try json(["/usr/sbin/ip", "-4", "-j", "-n", manager.name("X"), "route", "show"])
    #expect(v4.contains { $0["dst"] as? String == "default" })
    #expect(try manager.up().isEmpty)
  }

  @Test func upFixesWhatDiffersAndAFailureRestoresExistingNamespaces() throws {
    let prefix = Self.prefix()
    let first = TopologyManager(try Self.routedTopology(), prefix: prefix)
    defer { _ = try? first.down() }
    _ = try first.up()
    // A new gateway for A's default route, a new prefix length on b0: up replaces them.
    var changed = try Self.routedTopology()
    changed.routes[0].gateway = IPAddress("10.0.1.3")
    changed.addresses[3].address.prefixLength = 25
    let second = TopologyManager(changed, prefix: prefix)
    let changes = try second.up()
    #expect(changes.contains(.removedAddress("10.0.2.2/24", dev: "b0", in: second.name("B"))))
    #expect(TopologyReport.compare(second).isUp)
    let routes = try json(["/usr/sbin/ip", "-j", "-n", second.name("A"), "route", "show", "default"])
    #expect(routes.first?["gateway"] as? String == "10.0.1.3")

    // A failing up in existing namespaces puts back what it changed: address, sysctl, new links.
    var failing = try Self.routedTopology()
    failing.addresses.append(
      AddressSpec(
        address: InterfaceAddress(address: IPAddress("10.0.1.9")!, prefixLength: 24), device: "a0", namespace: "A"))
    failing.sysctls.append(SysctlSpec(namespace: "R", key: "net.ipv4.conf.all.rp_filter", value: "2"))
    failing.sysctls.append(SysctlSpec(namespace: "A", key: "net.ipv4.no_such_key", value: "1"))
    failing.namespaces.append(NamespaceSpec(name: "C"))
    failing.veths.append(VethSpec(name: "c0", namespace: "C", peer: "rc", peerNamespace: "R"))
    let third = TopologyManager(failing, prefix: prefix)
    #expect(throws: NetlinkError.self) { _ = try third.up() }
    #expect(!(try addresses(third.name("A"))).contains("a0 10.0.1.9/24"))
    let rp = try run([
      "/usr/sbin/ip", "netns", "exec", third.name("R"), "/usr/sbin/sysctl", "-n", "net.ipv4.conf.all.rp_filter",
    ])
    #expect(rp.stdout.trimmingCharacters(in: .whitespacesAndNewlines) != "2")
    #expect(try links(third.name("R"))["rc"] == nil)
    // Retrying at once (the bad key gone) must not trip over leftovers.
    failing.sysctls.removeLast()
    _ = try TopologyManager(failing, prefix: prefix).up()
    #expect(try links(third.name("R"))["rc"] != nil)
    _ = try? TopologyManager(failing, prefix: prefix).down()
  }
}
