import Foundation
import IPTablesBackend
import NFTablesBackend
import NetfilterModel

/// Three scratch namespaces: a sender S, a router R and a receiver D.
///
///     S: s0 ── r0 10.1.0.1 fd00:1::1  R  10.2.0.1 fd00:2::1 r1 ── d0 :D
///
/// R forwards 172.16.0.0/12 and fd00:172::/32 to D; rp_filter is off and D's neighbour entry is pinned, so a frame
/// sent on s0 is judged only by R's netfilter. S and D have no addresses: their stacks never
/// answer anything R sends, so no stray packet reaches R's chains between two cases. An nft observer table in R counts what survived
/// every chain (input priority 1000, postrouting priority 1000 out of r1) and a sentinel frame
/// (dropped at prerouting priority -1000) marks when the packet before it has been processed.
/// R itself sends nothing (output is dropped at priority -1000): no RST, echo reply or ICMP
/// error of R's, and no failed ARP that would come back to R's input seconds later.
final class DifferentialLab {
  let prefix: String
  var s: String { prefix + "-s" }
  var r: String { prefix + "-r" }
  var d: String { prefix + "-d" }
  let sMAC: [UInt8] = [0x02, 0, 0, 0, 0, 0x01]
  let r0MAC: [UInt8] = [0x02, 0, 0, 0, 0x01, 0x01]
  private(set) var socket: PacketSocket!

  /// R's interface towards S and towards D (named as a ruleset under test names them).
  let inside: String
  let outside: String

  static let sentinelSource = "10.254.254.254"
  var observer: String {
    """
    table inet fbobs {
      chain sentinel {
        type filter hook prerouting priority -1000; policy accept;
        ip saddr 10.254.254.254 counter drop
      }
      chain late_in {
        type filter hook input priority 1000; policy accept;
        counter
      }
      chain late_fwd {
        type filter hook postrouting priority 1000; policy accept;
        oifname "\(outside)" counter
      }
      chain quiet {
        type filter hook output priority -1000; policy drop;
      }
    }

    """
  }

  /// A lab whose router interfaces are `inside` and `outside`; with `defaultRoute` R forwards
  /// every destination (not only 172.16.0.0/12) to D.
  init(inside: String = "r0", outside: String = "r1", defaultRoute: Bool = false) throws {
    prefix = "fbt-d\(UInt32.random(in: 0...0xffffff))"
    self.inside = inside
    self.outside = outside
    do {
      try setUp()
      if defaultRoute { try ip(["-n", r, "route", "add", "default", "via", "10.2.0.2"]) }
    } catch {
      remove()
      throw error
    }
  }

  func ip(_ args: [String]) throws {
    let r = try run(["/usr/sbin/ip"] + args)
    guard r.status == 0 else { throw TestFailure("ip \(args.joined(separator: " ")): \(r.stderr)") }
  }

  func inR(_ argv: [String], input: String? = nil) throws -> String {
    let r = try run(["/usr/sbin/ip", "netns", "exec", self.r] + argv, input: input)
    guard r.status == 0 else { throw TestFailure("\(argv.joined(separator: " ")) in \(self.r): \(r.stderr)") }
    return r.stdout
  }

  private func setUp() throws {
    for ns in [s, r, d] { try ip(["netns", "add", ns]) }
    // S and D send nothing of their own (no router solicitations, MLD or DAD into R's input).
    for ns in [s, d] {
      let r = try run([
        "/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
        "net.ipv6.conf.default.disable_ipv6=1",
      ])
      guard r.status == 0 else { throw TestFailure("disable IPv6 in \(ns): \(r.stderr)") }
    }
    // Created inside S and D, with the peer moved straight into R: the root namespace never sees them.
    try ip([
      "-n", s, "link", "add", "s0", "address", "02:00:00:00:00:01", "type", "veth", "peer", "name", inside,
      "address", "02:00:00:00:01:01", "netns", r,
    ])
    try ip([
      "-n", d, "link", "add", "d0", "address", "02:00:00:00:02:01", "type", "veth", "peer", "name", outside,
      "address", "02:00:00:00:01:02", "netns", r,
    ])
    try ip(["-n", r, "addr", "add", "10.1.0.1/24", "dev", inside])
    try ip(["-n", r, "addr", "add", "10.2.0.1/24", "dev", outside])
    try ip(["-n", r, "addr", "add", "fd00:1::1/64", "dev", inside, "nodad"])
    try ip(["-n", r, "addr", "add", "fd00:2::1/64", "dev", outside, "nodad"])
    for (ns, dev) in [(s, "s0"), (r, inside), (r, outside), (d, "d0"), (s, "lo"), (r, "lo"), (d, "lo")] {
      try ip(["-n", ns, "link", "set", dev, "up"])
    }
    try ip(["-n", r, "route", "add", "172.16.0.0/12", "via", "10.2.0.2"])
    try ip(["-n", r, "neigh", "replace", "10.2.0.2", "lladdr", "02:00:00:00:02:01", "dev", outside, "nud", "permanent"])
    try ip(["-n", r, "-6", "route", "add", "fd00:172::/32", "via", "fd00:2::2"])
    try ip([
      "-n", r, "-6", "neigh", "replace", "fd00:2::2", "lladdr", "02:00:00:00:02:01", "dev", outside, "nud", "permanent",
    ])
    _ = try inR([
      "/usr/sbin/sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
      "net.ipv4.conf.default.rp_filter=0", "net.ipv4.conf.\(inside).rp_filter=0",
      "net.ipv4.conf.\(outside).rp_filter=0",
      "net.ipv6.conf.all.forwarding=1",
    ])
    socket = try PacketSocket(namespace: s, interface: "s0")
  }

  func remove() {
    socket = nil
    for ns in [s, r, d] { _ = try? run(["/usr/sbin/ip", "netns", "del", ns]) }
  }

  enum Backend: String, CaseIterable { case nft, iptablesLegacy = "iptables-legacy" }

  static let emptyIPTables = """
    *raw
    :PREROUTING ACCEPT [0:0]
    :OUTPUT ACCEPT [0:0]
    COMMIT
    *mangle
    :PREROUTING ACCEPT [0:0]
    :INPUT ACCEPT [0:0]
    :FORWARD ACCEPT [0:0]
    :OUTPUT ACCEPT [0:0]
    :POSTROUTING ACCEPT [0:0]
    COMMIT
    *filter
    :INPUT ACCEPT [0:0]
    :FORWARD ACCEPT [0:0]
    :OUTPUT ACCEPT [0:0]
    COMMIT

    """

  /// Replaces R's whole firewall with `ruleset` through one backend, plus the observer.
  func load(_ ruleset: Ruleset, _ backend: Backend) throws {
    _ = try inR(["/usr/sbin/iptables-legacy-restore"], input: DifferentialLab.emptyIPTables)
    _ = try inR(["/usr/sbin/ip6tables-legacy-restore"], input: DifferentialLab.emptyIPTables)
    _ = try inR(["/usr/sbin/nft", "flush", "ruleset"])
    switch backend {
    case .nft:
      let script = observer + (try NFTScript().compile(ruleset))
      do {
        _ = try inR(["/usr/sbin/nft", "-f", "-"], input: script)
      } catch {
        throw TestFailure("\(error)\n\(script)")
      }
    case .iptablesLegacy:
      _ = try inR(["/usr/sbin/nft", "-f", "-"], input: observer)
      let compiled = try IPTablesCompiler().compile(ruleset)
      for (tool, text) in [("iptables-legacy-restore", compiled.ipv4), ("ip6tables-legacy-restore", compiled.ipv6)] {
        guard let text else { continue }
        do {
          _ = try inR(["/usr/sbin/" + tool], input: text)
        } catch {
          throw TestFailure("\(error)\n\(text)")
        }
      }
    }
  }

  /// Counters read back from the kernel.
  struct Counters: Equatable {
    var sentinel = 0
    var lateInput = 0
    var lateForward = 0
    /// Packets counted per policy line (rules split or expanded by a backend are summed).
    var rules: [Int: Int] = [:]
  }

  func counters(_ backend: Backend) throws -> Counters {
    var c = Counters()
    var table = ""
    var chain = ""
    let nft = try inR(["/usr/sbin/nft", "list", "ruleset"])
    for line in nft.split(separator: "\n") {
      let t = line.trimmingCharacters(in: .whitespaces)
      if t.hasPrefix("table ") { table = t }
      if t.hasPrefix("chain ") { chain = String(t.split(separator: " ")[1]) }
      guard let packets = Self.number(after: "counter packets ", in: t) else { continue }
      if table.hasPrefix("table inet fbobs") {
        switch chain {
        case "sentinel": c.sentinel = packets
        case "late_in": c.lateInput = packets
        case "late_fwd": c.lateForward = packets
        default: break
        }
      } else if backend == .nft, let line = Self.number(after: "\"diff.policy:", in: t) {
        c.rules[line, default: 0] += packets
      }
    }
    if backend == .iptablesLegacy {
      let saved =
        try inR(["/usr/sbin/iptables-legacy-save", "-c"]) + (try inR(["/usr/sbin/ip6tables-legacy-save", "-c"]))
      for line in saved.split(separator: "\n") where line.hasPrefix("[") {
        guard let close = line.firstIndex(of: ":"), let packets = Int(line[line.index(after: line.startIndex)..<close]),
          let ruleLine = Self.number(after: "diff.policy:", in: String(line))
        else { continue }
        c.rules[ruleLine, default: 0] += packets
      }
    }
    return c
  }

  static func number(after marker: String, in text: String) -> Int? {
    guard let r = text.range(of: marker) else { return nil }
    return Int(text[r.upperBound...].prefix { $0.isNumber })
  }

  /// Sends a frame from S, then the sentinel, and returns the counters once the sentinel was
  /// counted (the frame before it, on the same CPU's backlog, has then been fully processed).
  func send(_ frame: [UInt8], backend: Backend, before: Counters) throws -> Counters {
    var sentinel = Frames.IPv4Packet(
      sourceMAC: sMAC, destinationMAC: r0MAC, source: 0x0afe_fefe, destination: 0x0a01_0001, proto: 17)
    sentinel.sourcePort = 9
    sentinel.destinationPort = 9
    try socket.sendInOrder([frame, Frames.frame(sentinel)])
    for _ in 0..<500 {
      let now = try counters(backend)
      if now.sentinel > before.sentinel { return now }
    }
    throw TestFailure("the sentinel frame was never counted in \(r)")
  }
}
