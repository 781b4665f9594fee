import Foundation
import IPTablesBackend
import NFTablesBackend
import NetfilterModel
import Topology
import VerdictEngine

#if canImport(Glibc)
  import Glibc
#endif

/// Proves a policy on the real kernel: brings its topology up under a prefix, applies its
/// firewalls, sends real probes between every pair of namespaces with addresses, and compares
/// what arrived with what the engine predicted.
public final class Verifier {
  /// One probe: a flow between two namespaces.
  public struct Probe: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
      case arp, icmp
      case tcp(UInt16)
      case udp(UInt16)
    }
    public var kind: Kind
    public var from: String
    public var to: String
    public var source: IPAddress
    public var destination: IPAddress

    public var description: String {
      switch kind {
      case .arp: return "arp \(from) → \(to) who-has \(destination)"
      case .icmp: return "icmp echo \(from) → \(to) \(destination) (and reply)"
      case .tcp(let p): return "tcp syn \(from) → \(to) \(destination):\(p)"
      case .udp(let p): return "udp \(from) → \(to) \(destination):\(p)"
      }
    }
  }

  /// A probe's prediction and what the kernel did.
  public struct Outcome: Sendable {
    public var probe: Probe
    public var predicted: Bool
    /// The deciding rule (or the reason) of the prediction, for the table.
    public var because: String
    public var observed: Bool
    public var agrees: Bool { predicted == observed }
  }

  public enum Backend: String, Sendable { case nft, iptables }

  let policy: Policy
  let topology: Topology
  public let manager: TopologyManager
  let simulator: Simulator
  /// How long a probe waits for a packet that may have been dropped, in milliseconds.
  public var timeout: Int32 = 400

  public init(policy: Policy, prefix: String) throws {
    guard let topology = policy.topology else {
      throw Simulator.RequestError(message: "verify needs a policy with a topology")
    }
    self.policy = policy
    self.topology = topology
    self.manager = TopologyManager(topology, prefix: prefix)
    self.simulator = Simulator(policy: policy)
  }

  /// Brings the topology up and loads every firewall through a backend's text and its tool
  /// (`nft -f`, `iptables-legacy-restore`), inside the prefixed namespaces. `firewalls` defaults
  /// to the policy's own (a test can load others to prove verify can fail).
  public func prepare(backend: Backend, firewalls: [Firewall]? = nil) throws {
    _ = try manager.up()
    for fw in firewalls ?? policy.firewalls {
      switch backend {
      case .nft:
        try runTool(["/usr/sbin/nft", "-f", "-"], in: fw.namespace, input: try NFTScript().compile(fw.ruleset))
      case .iptables:
        let compiled = try IPTablesCompiler().compile(fw.ruleset)
        if let v4 = compiled.ipv4 { try runTool(["/usr/sbin/iptables-legacy-restore"], in: fw.namespace, input: v4) }
        if let v6 = compiled.ipv6 { try runTool(["/usr/sbin/ip6tables-legacy-restore"], in: fw.namespace, input: v6) }
      }
    }
  }

  func runTool(_ argv: [String], in namespace: String, input: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    process.arguments = ["netns", "exec", manager.name(namespace)] + argv
    let pipe = Pipe()
    let errors = Pipe()
    process.standardInput = pipe
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    pipe.fileHandleForWriting.write(Data(input.utf8))
    try pipe.fileHandleForWriting.close()
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw NetlinkError(
        errno: EINVAL, operation: "load firewall with \(argv[0])", object: "in \(manager.name(namespace)): \(message)")
    }
  }

  /// Removes the prefixed namespaces.
  public func tearDown() { _ = try? manager.down() }

  /// The probe set: every ordered pair of namespaces with IPv4 addresses × ARP (on a shared link),
  /// ICMP echo, TCP SYN and UDP to every port the rules mention and to one they do not.
  public func probes() -> [Probe] {
    var ports = Set<UInt16>()
    for fw in policy.firewalls {
      for table in fw.ruleset.tables {
        for chain in table.chains {
          for rule in chain.rules {
            for m in rule.matches {
              if case .port(_, _, let op) = m.kind { for r in op.inlineElements { ports.insert(r.first) } }
            }
          }
        }
      }
    }
    let unmentioned = ([9, 7, 13, 37, 6000] as [UInt16]).first { !ports.contains($0) } ?? 65000
    let allPorts = ports.sorted() + [unmentioned]
    let hosts = topology.addresses.filter { $0.address.address.version == .v4 }
    var result: [Probe] = []
    for a in hosts {
      for b in hosts where a.namespace != b.namespace {
        let base = Probe(
          kind: .icmp, from: a.namespace, to: b.namespace, source: a.address.address, destination: b.address.address)
        if a.address.network.contains(b.address.address) { result.append(with(base, .arp)) }
        result.append(base)
        for p in allPorts {
          result.append(with(base, .tcp(p)))
          result.append(with(base, .udp(p)))
        }
      }
    }
    return result
  }

  func with(_ p: Probe, _ kind: Probe.Kind) -> Probe {
    var copy = p
    copy.kind = kind
    return copy
  }

  /// Predicts and sends every probe.
  public func run() throws -> [Outcome] {
    var outcomes: [Outcome] = []
    for (n, probe) in probes().enumerated() {
      // Ports and ids are unique per probe within any 20,000 in a row, and never overflow.
      let sourcePort = UInt16(41000 + n % 20000)
      let (predicted, because, simulation) = try predict(probe, sourcePort: sourcePort)
      let observed = try observe(
        probe, id: UInt16(truncatingIfNeeded: 0x4100 + n), sourcePort: sourcePort,
        expected: expected(probe, sourcePort, simulation))
      outcomes.append(Outcome(probe: probe, predicted: predicted, because: because, observed: observed))
    }
    return outcomes
  }

  /// Where a probe should be observed: the namespace and packet the engine says it arrives as
  /// (NAT can change both), or the declared destination when it is not delivered.
  struct Expected {
    var namespace: String
    var destination: UInt32
    var sourcePort: UInt16
    var destinationPort: UInt16
  }

  func predict(_ probe: Probe, sourcePort: UInt16) throws -> (Bool, String, Simulation) {
    var words = ["--from", probe.from, "--src", probe.source.description, "--dst", probe.destination.description]
    switch probe.kind {
    case .arp: words += ["--proto", "arp"]
    case .icmp: words += ["--proto", "icmp"]
    case .tcp(let p): words += ["--proto", "tcp", "--sport", String(sourcePort), "--dport", String(p)]
    case .udp(let p): words += ["--proto", "udp", "--sport", String(sourcePort), "--dport", String(p)]
    }
    let forward = try simulator.simulate(try PacketOptions.request(words: words))
    var pass = forward.verdict == .accept
    var because = describe(forward)
    if probe.kind == .icmp && pass {
      let reply = try simulator.simulate(
        try PacketOptions.request(words: [
          "--from", probe.to, "--src", probe.destination.description, "--dst", probe.source.description, "--proto",
          "icmp",
          "--icmp-type", "echo-reply", "--ct-state", "established",
        ]))
      pass = reply.verdict == .accept
      if !pass { because = "reply: " + describe(reply) }
    }
    return (pass, because, forward)
  }

  /// Where to listen for a probe: where the engine delivers it (NAT may have moved it), else its
  /// declared destination.
  func expected(_ probe: Probe, _ sourcePort: UInt16, _ s: Simulation) -> Expected {
    var port: UInt16 = 0
    switch probe.kind {
    case .tcp(let p), .udp(let p): port = p
    default: break
    }
    if let ns = s.deliveredTo, let p = s.deliveredPacket, case .v4(let d) = p.destination {
      return Expected(
        namespace: ns, destination: d, sourcePort: p.sourcePort ?? sourcePort,
        destinationPort: p.destinationPort ?? port)
    }
    return Expected(
      namespace: probe.to, destination: v4(probe.destination), sourcePort: sourcePort, destinationPort: port)
  }

  func describe(_ s: Simulation) -> String {
    if let d = s.decidedBy {
      let place = [d.namespace, d.family.rawValue, d.table, d.chain].compactMap { $0 }.joined(separator: " ")
      return "\(s.verdict.rawValue) by \(place) " + (d.index.map { "rule \($0): \(d.rule)" } ?? d.rule)
    }
    return s.verdict.rawValue + (s.reason.map { ": \($0)" } ?? "")
  }

  func v4(_ a: IPAddress) -> UInt32 {
    if case .v4(let v) = a { return v }
    return 0
  }

  /// Sends the probe from its namespace and reports whether it arrived (after the receiver's input
  /// hooks) — for ICMP, whether the request arrived and the reply came back.
  func observe(_ probe: Probe, id: UInt16, sourcePort: UInt16, expected: Expected? = nil) throws -> Bool {
    let from = manager.name(probe.from)
    let to = manager.name(expected?.namespace ?? probe.to)
    let arrivingSourcePort = expected?.sourcePort ?? sourcePort
    let source = v4(probe.source)
    let destination = v4(probe.destination)
    switch probe.kind {
    case .arp:
      guard
        let device = topology.addresses.first(where: {
          $0.namespace == probe.from && $0.address.address == probe.source
        })?.device
      else { return false }
      let live = try LiveNamespace.read(try RouteSocket(namespace: from))
      guard let mac = live.link(device)?.hardwareAddress, mac.count == 6 else { return false }
      let socket = try ProbeSocket.arp(in: from, interface: device)
      try socket.send(frame: ProbePackets.arpRequest(senderMAC: mac, sender: source, target: destination))
      return socket.receive(within: timeout) { frame in
        // An ARP reply (opcode 2) from the target address.
        frame.count >= 42 && frame[12] == 0x08 && frame[13] == 0x06 && frame[21] == 2
          && Array(frame[28..<32]) == ProbePackets.be32(destination)
      }
    case .icmp, .tcp, .udp:
      let proto: Int32
      var destinationPort: UInt16 = 0
      switch probe.kind {
      case .tcp(let p):
        proto = Int32(IPPROTO_TCP)
        destinationPort = p
      case .udp(let p):
        proto = Int32(IPPROTO_UDP)
        destinationPort = p
      default:
        proto = Int32(IPPROTO_ICMP)
      }
      let receiver = try ProbeSocket.raw(in: to, proto: proto)
      let replies = proto == Int32(IPPROTO_ICMP) ? try ProbeSocket.raw(in: from, proto: proto) : nil
      let sender = try ProbeSocket.raw(in: from, proto: Int32(IPPROTO_RAW))
      let packet = ProbePackets.ipv4(
        source: source, destination: destination, proto: UInt8(proto), id: id, sourcePort: sourcePort,
        destinationPort: destinationPort)
      // Not sent at all (the sender's output hooks dropped it, or it has no route): blocked.
      guard try sender.send(ip: packet, to: destination) else { return false }
      let arrived = receiver.receive(within: timeout) { datagram in
        let header = Int(datagram[0] & 0x0f) * 4
        guard datagram.count >= header + 8 else { return false }
        let l4 = Array(datagram[header...])
        switch proto {
        case Int32(IPPROTO_ICMP): return l4[0] == 8 && Array(l4[4..<6]) == ProbePackets.be16(id)
        default:
          return Array(l4[0..<2]) == ProbePackets.be16(arrivingSourcePort)
            && Array(l4[2..<4]) == ProbePackets.be16(expected?.destinationPort ?? destinationPort)
        }
      }
      guard arrived, let replies else { return arrived }
      return replies.receive(within: timeout) { datagram in
        let header = Int(datagram[0] & 0x0f) * 4
        guard datagram.count >= header + 8 else { return false }
        return datagram[header] == 0 && Array(datagram[(header + 4)..<(header + 6)]) == ProbePackets.be16(id)
      }
    }
  }
}
