import Foundation
import IPTablesBackend
import NFTablesBackend
import NetfilterModel
import PolicyLanguage
import Testing
import VerdictEngine

/// Random rulesets and random packets, judged by the real kernel (through both backends) and by
/// the engine: the verdict and every rule the packet matched must agree, case by case.
///
/// Seeded: set FIREBREAK_SEED to replay a run; FIREBREAK_DIFF_RULESETS and
/// FIREBREAK_DIFF_PACKETS size it (defaults give 1,000+ packet cases per backend).
@Suite(.serialized, .enabled(if: Kernel.available, "kernel tests need root and the netfilter tools (see stderr)"))
struct DifferentialTests {
  struct Case {
    var source: IPAddress
    var destination: IPAddress
    var proto: UInt8
    var sourcePort: UInt16
    var destinationPort: UInt16
    var tcpFlags: UInt8
    var icmpID: UInt16
    var forward: Bool
  }

  static func environment(_ name: String, default value: Int) -> Int {
    ProcessInfo.processInfo.environment[name].flatMap(Int.init) ?? value
  }

  @Test func kernelAgreesWithEngine() throws {
    let seed =
      ProcessInfo.processInfo.environment["FIREBREAK_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
    let rulesets = Self.environment("FIREBREAK_DIFF_RULESETS", default: 60)
    let packetsPerRuleset = Self.environment("FIREBREAK_DIFF_PACKETS", default: 18)
    FileHandle.standardError.write(
      Data(
        "differential: FIREBREAK_SEED=\(seed) (\(rulesets) rulesets × \(packetsPerRuleset) packets × 2 backends)\n".utf8
      ))

    let lab = try DifferentialLab()
    defer { lab.remove() }
    var generator = RulesetGenerator(seed: seed)
    var cases = 0
    var failures: [String] = []
    var usedTuples = Set<String>()
    var verdicts: [String: Int] = [:]

    for n in 0..<rulesets {
      let ruleset = try compilable(&generator)
      let packets = (0..<packetsPerRuleset).map { _ in packet(&generator, ruleset, &usedTuples) }
      for backend in DifferentialLab.Backend.allCases {
        // The backends replay the same packets: without a flush the second would meet the
        // first's conntrack entries, connection marks included.
        _ = try lab.inR(["/usr/sbin/conntrack", "-F"])
        try lab.load(ruleset, backend)
        var before = try lab.counters(backend)
        for p in packets {
          let after = try lab.send(frame(p, lab), backend: backend, before: before)
          let accepted = p.forward ? after.lateForward > before.lateForward : after.lateInput > before.lateInput
          let kernelMatched = Set(after.rules.filter { $0.value > (before.rules[$0.key] ?? 0) }.keys)
          before = after

          let simulation = try Simulator(ruleset: ruleset).simulate(request(p))
          let engineMatched = Set(
            simulation.trace.filter { $0.matched && $0.index != nil }.compactMap { $0.source?.line })
          cases += 1
          let family = p.source.version == .v4 ? "IPv4" : "IPv6"
          verdicts["\(family) \(p.forward ? "forward" : "input") \(simulation.verdict.rawValue)", default: 0] += 1
          if (simulation.verdict == .accept) != accepted || engineMatched != kernelMatched
            || simulation.verdict == .unknown
          {
            failures.append(
              """
              seed \(seed) ruleset \(n) backend \(backend.rawValue): \(describe(p))
                kernel: \(accepted ? "accept" : "not accepted"), matched lines \(kernelMatched.sorted())
                engine: \(simulation.verdict.rawValue) \(simulation.reason ?? ""), matched lines \(engineMatched.sorted())
              \(NFTScript().listing(ruleset))
              """)
          }
        }
      }
    }
    FileHandle.standardError.write(
      Data(
        "differential: \(cases) cases, \(cases - failures.count) agree (\(verdicts.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", ")))\n"
          .utf8))
    #expect(cases >= 1000 || rulesets * packetsPerRuleset * 2 < 1000)
    if !failures.isEmpty {
      let report = failures.joined(separator: "\n")
      _ = FileManager.default.createFile(
        atPath: "/tmp/firebreak-differential-failures.txt", contents: Data(report.utf8))
    }
    #expect(
      failures.isEmpty,
      "\(failures.count) disagreements (all in /tmp/firebreak-differential-failures.txt); first:\n\(failures.first ?? "")"
    )
  }

  /// A generated ruleset that both backends and the validator accept: rules a backend refuses
  /// (iptables cannot split a set with overlapping elements before a jump, …) are dropped.
  func compilable(_ generator: inout RulesetGenerator) throws -> Ruleset {
    for _ in 0..<50 {
      var ruleset = generator.ruleset()
      for _ in 0..<5 {
        var problems = RulesetValidator(ruleset: ruleset).validate()
        problems += NFTScript().unsupported(ruleset)
        do {
          _ = try IPTablesCompiler().compile(ruleset)
        } catch let list as DiagnosticList {
          problems += list.diagnostics
        }
        if problems.isEmpty { return ruleset }
        let bad = Set(problems.map(\.location.line))
        for t in ruleset.tables.indices {
          for c in ruleset.tables[t].chains.indices {
            ruleset.tables[t].chains[c].rules.removeAll { bad.contains($0.location.line) }
          }
        }
      }
    }
    throw TestFailure("could not generate a ruleset both backends accept")
  }

  /// The ruleset's addresses of one version and direction, each with its neighbours: the
  /// boundaries where an engine and a kernel would disagree first.
  func addresses(_ ruleset: Ruleset, _ direction: Direction, _ version: IPVersion) -> [IPAddress] {
    var result: [IPAddress] = []
    for table in ruleset.tables {
      for chain in table.chains {
        for rule in chain.rules {
          for m in rule.matches {
            guard case .address(let v, let d, let op) = m.kind, d == direction, v == version else { continue }
            for e in op.inlineElements {
              let (lo, hi) = e.bounds
              result += [lo, hi] + [step(lo, -1), step(hi, 1)].compactMap { $0 }
            }
          }
        }
      }
    }
    return result
  }

  func step(_ a: IPAddress, _ by: Int) -> IPAddress? {
    switch a {
    case .v4(let v): return by < 0 ? (v == 0 ? nil : .v4(v - 1)) : (v == .max ? nil : .v4(v + 1))
    case .v6(let hi, let lo): return by < 0 ? (lo == 0 ? nil : .v6(hi, lo - 1)) : (lo == .max ? nil : .v6(hi, lo + 1))
    }
  }

  /// Addresses the kernel drops outside netfilter (martians, the router's own, link-local
  /// and on-link ones) are not sent: they would test routing, not rules.
  func usableSource(_ a: IPAddress) -> Bool {
    switch a {
    case .v4(let v):
      let first = v >> 24
      return first != 0 && first != 127 && first < 224 && v & 0xff != 255 && v & 0xff != 0
        && v >> 8 != 0x0a0100 && v >> 8 != 0x0a0200 && v != 0x0afe_fefe
    case .v6(let hi, _):
      let top = hi >> 48
      return top != 0 && top < 0xfe00 && hi != 0xfd00_0001_0000_0000 && hi != 0xfd00_0002_0000_0000
    }
  }

  func usableDestination(_ a: IPAddress) -> Bool {
    switch a {
    case .v4(let v): return v >> 20 == 0xac1 && v & 0xff != 255 && v & 0xff != 0
    case .v6(let hi, let lo): return hi >> 32 == 0xfd00_0172 && lo != 0
    }
  }

  /// A packet biased to hit the ruleset's boundaries: addresses at and just outside its prefixes.
  func packet(_ g: inout RulesetGenerator, _ ruleset: Ruleset, _ used: inout Set<String>) -> Case {
    let forward = g.chance(0.5)
    let version: IPVersion = g.chance(0.5) ? .v6 : .v4
    var sources = addresses(ruleset, .source, version).filter(usableSource)
    sources +=
      version == .v4
      ? [IPAddress("10.5.1.7")!, IPAddress("192.168.1.5")!, IPAddress("198.18.0.1")!, IPAddress("11.0.0.1")!]
      : [IPAddress("fd00:5:1::7")!, IPAddress("fd00:5::1")!, IPAddress("2001:db8::5")!, IPAddress("fd00:9::1")!]
    let source = g.pick(sources)
    var destination = version == .v4 ? IPAddress("10.1.0.1")! : IPAddress("fd00:1::1")!
    if forward {
      var pool = addresses(ruleset, .destination, version).filter(usableDestination)
      pool +=
        version == .v4
        ? [IPAddress("172.16.1.5")!, IPAddress("172.17.2.3")!, IPAddress("172.20.0.1")!]
        : [IPAddress("fd00:172:1::5")!, IPAddress("fd00:172:2::1")!, IPAddress("fd00:172:9::9")!]
      destination = g.pick(pool)
    }
    let icmp: UInt8 = version == .v4 ? 1 : 58
    let proto = g.pick([6, 6, 17, 17, icmp])
    var c = Case(
      source: source, destination: destination, proto: proto, sourcePort: 0, destinationPort: 0,
      tcpFlags: g.pick([0x02, 0x02, 0x10]), icmpID: UInt16.random(in: 1...0xfffe, using: &g.rng), forward: forward)
    if proto == 6 || proto == 17 {
      c.destinationPort = g.chance(0.7) ? g.pick(RulesetGenerator.ports) : UInt16.random(in: 1...9000, using: &g.rng)
      c.sourcePort = g.chance(0.3) ? g.pick(RulesetGenerator.ports) : UInt16.random(in: 1024...65000, using: &g.rng)
    }
    // Conntrack must see every case as a new connection: no tuple twice in one lab.
    while !used.insert("\(c.source) \(c.destination) \(c.proto) \(c.sourcePort) \(c.destinationPort) \(c.icmpID)")
      .inserted
    {
      c.sourcePort = UInt16.random(in: 1024...65000, using: &g.rng)
      c.icmpID = UInt16.random(in: 1...0xfffe, using: &g.rng)
    }
    return c
  }

  func bytes(_ a: IPAddress) -> [UInt8] {
    guard case .v6(let hi, let lo) = a else { return [] }
    return (0..<8).map { UInt8(truncatingIfNeeded: hi >> (56 - 8 * UInt64($0))) }
      + (0..<8).map { UInt8(truncatingIfNeeded: lo >> (56 - 8 * UInt64($0))) }
  }

  func frame(_ c: Case, _ lab: DifferentialLab) -> [UInt8] {
    switch (c.source, c.destination) {
    case (.v4(let s), .v4(let d)):
      var p = Frames.IPv4Packet(
        sourceMAC: lab.sMAC, destinationMAC: lab.r0MAC, source: s, destination: d, proto: c.proto)
      p.sourcePort = c.sourcePort
      p.destinationPort = c.destinationPort
      p.tcpFlags = c.tcpFlags
      p.icmpID = c.icmpID
      return Frames.frame(p)
    default:
      var p = Frames.IPv6Packet(
        sourceMAC: lab.sMAC, destinationMAC: lab.r0MAC, source: bytes(c.source), destination: bytes(c.destination),
        proto: c.proto)
      p.sourcePort = c.sourcePort
      p.destinationPort = c.destinationPort
      p.tcpFlags = c.tcpFlags
      p.icmpID = c.icmpID
      return Frames.frame(p)
    }
  }

  func request(_ c: Case) -> Simulator.Request {
    let isICMP = c.proto == 1 || c.proto == 58
    let packet = Packet(
      source: c.source, destination: c.destination, l4proto: c.proto,
      sourcePort: isICMP ? nil : c.sourcePort, destinationPort: isICMP ? nil : c.destinationPort,
      icmpType: isICMP ? (c.proto == 1 ? 8 : 128) : nil, icmpCode: isICMP ? 0 : nil,
      tcpFlags: c.proto == 6 ? TCPFlags(rawValue: c.tcpFlags) : nil, inputInterface: "r0",
      outputInterface: c.forward ? "r1" : nil, ctState: .new)
    return Simulator.Request(packet: packet, hook: c.forward ? .forward : .input)
  }

  func describe(_ c: Case) -> String {
    let proto = ProtocolNames.protocolName(c.proto)
    let isICMP = c.proto == 1 || c.proto == 58
    let ports =
      isICMP ? "" : " sport \(c.sourcePort) dport \(c.destinationPort) flags 0x\(String(c.tcpFlags, radix: 16))"
    return "\(proto) \(c.source) -> \(c.destination)\(ports) (\(c.forward ? "forward" : "input"))"
  }
}
