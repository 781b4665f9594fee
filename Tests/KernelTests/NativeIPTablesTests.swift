import Foundation
import IPTablesBackend
import IPTablesNative
import NetfilterModel
import RulesetImport
import Testing
import Topology

/// Native iptables (libiptc) against iptables-legacy-restore, each in its own scratch namespace,
/// with `iptables-legacy-save` as the independent oracle.
@Suite(.serialized, .enabled(if: Kernel.available, "kernel tests need root and the netfilter tools (see stderr)"))
struct NativeIPTablesTests {
  /// Every firewall the iptables backend compiles, with its compiled output.
  static let compiled: [(String, IPTablesOutput)] = Repo.allPolicies.flatMap { path in
    ((try? RoundTripKernelTests.firewalls(path)) ?? []).compactMap { fw in
      (try? IPTablesCompiler().compile(fw.ruleset)).map { ("\(path) firewall \(fw.namespace)", $0) }
    }
  }

  static func output(_ policy: String) throws -> IPTablesOutput {
    let path = Repo.root + "/" + policy
    let fw = try #require(try RoundTripKernelTests.firewalls(path).first)
    return try IPTablesCompiler().compile(fw.ruleset)
  }

  /// Both families' `*-legacy-save` output, counters and comment lines normalised.
  static func listing(_ ns: ScratchNamespace) throws -> [String: [String]] {
    var tables: [String: [String]] = [:]
    for (family, tool) in [("ip", "iptables-legacy-save"), ("ip6", "ip6tables-legacy-save")] {
      for (name, lines) in Listing.iptables(try ns.check(["/usr/sbin/" + tool])) { tables["\(family) \(name)"] = lines }
    }
    return tables
  }

  static func native<T>(_ ns: ScratchNamespace, _ body: @escaping () throws -> T) throws -> T {
    try NetworkNamespace.run(in: ns.name, body)
  }

  @Test(arguments: compiled.map(\.0))
  func nativeApplyListsLikeLegacyRestore(_ label: String) throws {
    try Self.compareWithLegacyRestore(try #require(Self.compiled.first { $0.0 == label }?.1), label)
  }

  /// Forms the goldens do not reach: IPv6 NAT, more REJECT codes, ranges and negations.
  static let extras: [IPTablesOutput] = [
    IPTablesOutput(
      ipv4: nil,
      ipv6: """
        *nat
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        -A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination [2001:db8::2]:80
        -A PREROUTING -p udp -m udp --dport 53 -j REDIRECT --to-ports 5353
        -A PREROUTING -d 2001:db8::/64 -j DNAT --to-destination 2001:db8::2-2001:db8::9
        -A POSTROUTING -o eth0 -j MASQUERADE
        -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000
        -A POSTROUTING -s fd00::/8 -j SNAT --to-source 2001:db8::1
        -A POSTROUTING -p udp -j SNAT --to-source [2001:db8::1]:1000-2000
        COMMIT
        *filter
        :INPUT DROP [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :sub - [0:0]
        -A INPUT ! -i eth+ -p ipv6-icmp -m icmp6 --icmpv6-type 1/3 -j ACCEPT
        -A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j DROP
        -A INPUT -p tcp -m multiport --sports 1:100,200 -m conntrack --ctstate INVALID,SNAT,DNAT -j sub
        -A INPUT -m mac ! --mac-source 02:00:00:00:00:01 -m mark --mark 0x0/0xf -g sub
        -A INPUT -j LOG --log-prefix "v6 \\\"quoted\\\" " --log-level 7
        -A INPUT -p tcp -j REJECT --reject-with tcp-reset
        -A sub -j REJECT --reject-with icmp6-addr-unreachable
        -A sub -j REJECT --reject-with icmp6-no-route
        COMMIT

        """),
    IPTablesOutput(
      ipv4: """
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -s 10.0.0.0/8 ! -d 10.1.0.0/16 ! -i lo -p udp -m udp ! --sport :100 --dport 1024: -j ACCEPT
        -A INPUT -p icmp -m icmp --icmp-type any -j REJECT --reject-with icmp-net-prohibited
        -A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 ! --dst-range 10.0.1.1-10.0.1.9 -j REJECT --reject-with icmp-proto-unreachable
        -A FORWARD -m physdev ! --physdev-in veth+ --physdev-out br-port -j DROP
        -A OUTPUT -m limit --limit 2/min --limit-burst 20 -j LOG --log-level 1
        COMMIT
        *mangle
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        -A POSTROUTING -o eth0 -j MARK --set-xmark 0x0/0xff00
        COMMIT

        """, ipv6: nil),
    // Extensions that `firebreak import` keeps verbatim: owner, connmark, state, CONNMARK, TRACE,
    // NOTRACK, CT, NFLOG, TCPMSS, LOG flags; each in the forms people write and iptables-save prints.
    IPTablesOutput(
      ipv4: """
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -m state ! --state INVALID,UNTRACKED
        -A INPUT -m state --state new
        -A INPUT -m connmark --mark 0x1 -j ACCEPT
        -A INPUT -m connmark ! --mark 0x10/0xff
        -A INPUT -m connmark --mark 7
        -A INPUT -j NFLOG
        -A INPUT -j NFLOG --nflog-group 3 --nflog-prefix "hello \\\"world\\\"" --nflog-size 200 --nflog-threshold 5
        -A INPUT -j NFLOG --nflog-prefix blocked --nflog-range 100
        -A INPUT -j LOG --log-prefix "Dropped outbound packet: " --log-level 7 --log-uid
        -A INPUT -j LOG --log-tcp-sequence --log-tcp-options --log-ip-options --log-macdecode
        -A OUTPUT -d 127.0.0.1/32 -o lo -p tcp -m tcp --dport 9050 --tcp-flags FIN,SYN,RST,ACK SYN -m owner --uid-owner 0 -j ACCEPT
        -A OUTPUT -m owner --uid-owner root --gid-owner 0x10
        -A OUTPUT -m owner ! --uid-owner 1000-2000 --gid-owner 5
        -A OUTPUT -m owner --socket-exists ! --gid-owner 10:20
        -A OUTPUT -m owner ! --socket-exists
        -A OUTPUT -m owner --gid-owner 100 --suppl-groups
        -A OUTPUT ! -o lo -p udp -m owner --uid-owner 114 -m udp --dport 53 -j ACCEPT
        COMMIT
        *mangle
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        -A PREROUTING -m mark ! --mark 0x0 -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff
        -A PREROUTING -m connmark --mark 0x1 -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff
        -A PREROUTING -j CONNMARK --save-mark
        -A PREROUTING -j CONNMARK --restore-mark --mask 0xff
        -A PREROUTING -j CONNMARK --save-mark --ctmask 0xff00 --nfmask 0xff
        -A PREROUTING -j CONNMARK --restore-mark --right-shift-mark 8
        -A PREROUTING -j CONNMARK --save-mark --nfmask 0xff --left-shift-mark 4
        -A PREROUTING -j CONNMARK --set-xmark 0x2/0xffffffff
        -A PREROUTING -j CONNMARK --set-mark 5
        -A PREROUTING -j CONNMARK --set-mark 0x10/0xf
        -A PREROUTING -j CONNMARK --set-xmark 0x5/0xf
        -A PREROUTING -j CONNMARK --and-mark 0xf
        -A PREROUTING -j CONNMARK --or-mark 0xf
        -A PREROUTING -j CONNMARK --xor-mark 017
        -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
        -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400
        COMMIT
        *raw
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        -A PREROUTING -j CT --notrack
        -A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp
        -A OUTPUT -p icmp -j TRACE
        -A OUTPUT -p tcp -j TRACE
        -A OUTPUT -j NOTRACK
        -A OUTPUT -j CT --zone 5
        -A OUTPUT -j CT --zone-orig 5
        -A OUTPUT -j CT --zone-reply mark
        -A OUTPUT -j CT --zone mark
        -A OUTPUT -j CT --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark --expevents new
        COMMIT

        """, ipv6: nil),
    // The header, routing and stateful matches, and the targets that rewrite headers or queue.
    IPTablesOutput(
      ipv4: """
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -m addrtype --src-type LOCAL
        -A INPUT -m addrtype ! --dst-type LOCAL,BROADCAST --limit-iface-in
        -A INPUT -m addrtype --src-type unspec,unicast,anycast,multicast,blackhole,unreachable,prohibit,throw,nat,xresolve
        -A OUTPUT -m addrtype ! --src-type UNICAST --dst-type MULTICAST --limit-iface-out
        -A INPUT -m pkttype --pkt-type broadcast
        -A INPUT -m pkttype ! --pkt-type mcast
        -A INPUT -m pkttype --pkt-type host
        -A INPUT -m pkttype --pkt-type otherhost
        -A INPUT -m length --length 100
        -A INPUT -m length ! --length 100:200
        -A INPUT -m length --length :200
        -A INPUT -m length --length 1000:
        -A INPUT -m ttl --ttl-eq 64
        -A INPUT -m ttl ! --ttl-eq 64
        -A INPUT -m ttl --ttl-lt 10
        -A INPUT -m ttl --ttl-gt 0x10
        -A INPUT -m tos --tos 0x10
        -A INPUT -m tos ! --tos Minimize-Delay
        -A INPUT -m tos --tos 0x10/0x3f
        -A INPUT -m tos --tos normal-service
        -A INPUT -m dscp --dscp 10
        -A INPUT -m dscp ! --dscp-class AF41
        -A INPUT -m dscp --dscp-class ef
        -A INPUT -m statistic --mode random --probability 0.5
        -A INPUT -m statistic --mode random ! --probability 0.1
        -A INPUT -m statistic --mode random --probability 1
        -A INPUT -m statistic --mode random --probability 0
        -A INPUT -m statistic --mode nth --every 3 --packet 1
        -A INPUT -m statistic --mode nth ! --every 3 --packet 0
        -A INPUT -m recent --set --name ssh --rsource
        -A INPUT -m recent --update --seconds 60 --hitcount 4 --name ssh --rsource -j DROP
        -A INPUT -m recent ! --rcheck --seconds 60 --reap --rttl --name DEFAULT --mask 255.255.255.0 --rdest
        -A INPUT -m recent --remove
        -A INPUT -m recent --rcheck --name a_rather_long_list_name
        -A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-name foo
        -A INPUT -m hashlimit --hashlimit 3/m --hashlimit-burst 20 --hashlimit-name old
        -A INPUT -m hashlimit --hashlimit-above 5/min --hashlimit-burst 10 --hashlimit-mode srcip,dstport --hashlimit-name bar --hashlimit-htable-size 1024 --hashlimit-htable-max 2048 --hashlimit-htable-expire 30000 --hashlimit-htable-gcinterval 500 --hashlimit-srcmask 24
        -A INPUT -m hashlimit ! --hashlimit-above 7/hour --hashlimit-mode dstip|srcport --hashlimit-dstmask 16 --hashlimit-name inv
        -A INPUT -m hashlimit --hashlimit-upto 100kb/s --hashlimit-name baz
        -A INPUT -m hashlimit --hashlimit-above 2mb/s --hashlimit-burst 4mb --hashlimit-name bytes
        -A INPUT -m hashlimit --hashlimit-upto 1000b/s --hashlimit-burst 5000 --hashlimit-mode srcip --hashlimit-name small
        -A INPUT -m hashlimit --hashlimit-upto 3000/sec --hashlimit-name fast
        -A INPUT -m hashlimit --hashlimit-upto 10/min --hashlimit-name rm --hashlimit-rate-match
        -A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-name ri --hashlimit-rate-match --hashlimit-rate-interval 5
        -A INPUT -m hashlimit --hashlimit-upto 1mb/s --hashlimit-name rb --hashlimit-rate-match
        -A FORWARD -m physdev --physdev-is-in ! --physdev-is-out --physdev-is-bridged
        -A FORWARD -m physdev --physdev-in veth0 ! --physdev-is-bridged
        COMMIT
        *mangle
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        -A PREROUTING -j DSCP --set-dscp 10
        -A PREROUTING -j DSCP --set-dscp-class EF
        -A PREROUTING -j TOS --set-tos 0x10
        -A PREROUTING -j TOS --set-tos 0x10/0x3f
        -A PREROUTING -j TOS --and-tos 0x3
        -A PREROUTING -j TOS --or-tos 0x3
        -A PREROUTING -j TOS --xor-tos 3
        -A PREROUTING -j TOS --set-tos Minimize-Delay
        -A PREROUTING -j TTL --ttl-set 64
        -A PREROUTING -j TTL --ttl-dec 1
        -A PREROUTING -j TTL --ttl-inc 1
        -A POSTROUTING -j CLASSIFY --set-class 1:10
        -A POSTROUTING -j CLASSIFY --set-class ffff:ffff
        -A FORWARD -j NFQUEUE
        -A FORWARD -j NFQUEUE --queue-num 5
        -A FORWARD -j NFQUEUE --queue-balance 0:3
        -A FORWARD -j NFQUEUE --queue-num 2 --queue-bypass
        -A FORWARD -j NFQUEUE --queue-balance 0:3 --queue-cpu-fanout --queue-bypass
        COMMIT

        """, ipv6: nil),
    // The same extensions in ip6tables, with hl/HL for ttl/TTL and IPv6 masks.
    IPTablesOutput(
      ipv4: nil,
      ipv6: """
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -m connmark ! --mark 0x10/0xff
        -A INPUT -m hl --hl-eq 255
        -A INPUT -m hl ! --hl-eq 64
        -A INPUT -m hl --hl-lt 2
        -A INPUT -m hl --hl-gt 200
        -A INPUT -m addrtype --dst-type LOCAL,MULTICAST
        -A INPUT -m pkttype --pkt-type multicast
        -A INPUT -m length --length 1280:65535
        -A INPUT -m tos --tos 0x04/0xfc
        -A INPUT -m dscp --dscp 0x2e
        -A INPUT -m statistic --mode random --probability 0.33
        -A INPUT -m recent --rcheck --seconds 30 --name six --mask ffff:ffff:ffff:ffff:: --rdest
        -A INPUT -m recent --set --name six
        -A INPUT -m hashlimit --hashlimit-upto 50/sec --hashlimit-burst 100 --hashlimit-mode srcip,srcport --hashlimit-srcmask 64 --hashlimit-name six
        -A INPUT -j NFLOG --nflog-group 65535 --nflog-prefix v6
        -A INPUT -j LOG --log-prefix v6 --log-uid --log-macdecode
        -A OUTPUT -m owner --uid-owner 0-999 ! --gid-owner 0
        COMMIT
        *mangle
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        -A PREROUTING -j CONNMARK --restore-mark --nfmask 0xffff --ctmask 0xff
        -A PREROUTING -j HL --hl-set 64
        -A PREROUTING -j HL --hl-dec 1
        -A PREROUTING -j HL --hl-inc 2
        -A PREROUTING -j DSCP --set-dscp-class AF11
        -A PREROUTING -j TOS --set-tos 0x08/0xff
        -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
        -A POSTROUTING -j CLASSIFY --set-class 10:1
        -A FORWARD -j NFQUEUE --queue-num 7 --queue-bypass
        COMMIT
        *raw
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        -A PREROUTING -j NOTRACK
        -A PREROUTING -j CT --notrack
        -A OUTPUT -p ipv6-icmp -j TRACE
        -A OUTPUT -j CT --zone 3
        COMMIT

        """),
  ]

  @Test(arguments: extras.indices)
  func moreFormsListLikeLegacyRestore(_ index: Int) throws {
    try Self.compareWithLegacyRestore(Self.extras[index], "extra \(index)")
  }

  /// The iptables-save dumps of the corpus.
  static let corpusDumps = [
    "03_ferm_workstation.iptables-save", "07_serverfault_765855.iptables-save", "08_tails_1.5.iptables-save",
    "18_openlab_stettenstr.iptables-save",
  ]

  /// Real dumps (Tails' owner matches and LOG --log-uid; serverfault's state, connmark, CONNMARK
  /// and TRACE) loaded with iptables-legacy-restore: a live snapshot lists through EntryPrinter
  /// exactly as iptables-legacy-save lists it, with no extension left as `--rev/--data` bytes.
  @Test(arguments: corpusDumps)
  func liveDumpsListLikeLegacySave(_ name: String) throws {
    let text = try String(contentsOfFile: ImportRoundTripKernelTests.corpus + "/" + name, encoding: .utf8)
    let ns = try ScratchNamespace("ipt")
    defer { ns.remove() }
    try ns.check(["/usr/sbin/iptables-legacy-restore"], input: text)
    let listed = try Self.native(ns) { try IPTablesNative().snapshot() }.listing(.ipv4)
    #expect(!listed.contains("--rev "), "\(name): \(listed.split(separator: "\n").filter { $0.contains("--rev ") })")
    #expect(Listing.iptables(listed) == Listing.iptables(try ns.check(["/usr/sbin/iptables-legacy-save"])), "\(name)")
  }

  /// The same dumps applied natively: byte for byte what iptables-legacy-restore loads.
  @Test(arguments: corpusDumps)
  func dumpsApplyLikeLegacyRestore(_ name: String) throws {
    let text = try String(contentsOfFile: ImportRoundTripKernelTests.corpus + "/" + name, encoding: .utf8)
    try Self.compareWithLegacyRestore(IPTablesOutput(ipv4: text, ipv6: nil), name)
  }

  /// `firebreak import` keeps what the model does not know verbatim (`iptables "-m owner …"`,
  /// `iptables "-j CONNMARK …"`): the compiled import of each dump applies natively exactly as
  /// iptables-legacy-restore loads it.
  @Test(arguments: corpusDumps)
  func importedDumpsApplyLikeLegacyRestore(_ name: String) throws {
    let text = try String(contentsOfFile: ImportRoundTripKernelTests.corpus + "/" + name, encoding: .utf8)
    let imported = IPTablesSaveImporter().importRuleset(text, file: name)
    #expect(imported.errors.isEmpty)
    try Self.compareWithLegacyRestore(try IPTablesCompiler(originComments: false).compile(imported.ruleset), name)
  }

  /// Native apply (twice) in one namespace, the legacy restore tools in another; the listings,
  /// the entry bytes, the snapshot's own text and the expected snapshot must all agree.
  static func compareWithLegacyRestore(_ output: IPTablesOutput, _ label: String) throws {
    let native = try ScratchNamespace("ipt")
    defer { native.remove() }
    let tool = try ScratchNamespace("ipt")
    defer { tool.remove() }

    // Twice: a second apply replaces the tables, it does not add to them.
    try Self.native(native) { try IPTablesNative().apply(output) }
    try Self.native(native) { try IPTablesNative().apply(output) }
    if let text = output.ipv4 { try tool.check(["/usr/sbin/iptables-legacy-restore"], input: text) }
    if let text = output.ipv6 { try tool.check(["/usr/sbin/ip6tables-legacy-restore"], input: text) }

    #expect(try Self.listing(native) == Self.listing(tool), "\(label)")
    // Drift detection needs no decoding: the live tables equal what the ruleset says, byte for byte.
    let expected = try IPTSnapshot(IPTRuleset(output))
    let live = try Self.native(native) { try IPTablesNative().snapshot(tables: expected.tables.map(\.id)) }
    #expect(live.equalsIgnoringCounters(expected), "\(label): \(Self.differences(live, expected))")
    // Stronger than the listing: the kernel holds the same entry bytes, revision for revision.
    let mine = try Self.native(native) { try IPTablesNative().snapshot() }
    let theirs = try Self.native(tool) { try IPTablesNative().snapshot() }
    #expect(mine.equalsIgnoringCounters(theirs), "\(label): \(Self.differences(mine, theirs))")
    // The snapshot's own text lists like the tools.
    for (family, save) in [(IPTFamily.ipv4, "iptables-legacy-save"), (.ipv6, "ip6tables-legacy-save")] {
      let listed = try tool.check(["/usr/sbin/" + save])
      #expect(Listing.iptables(mine.listing(family)) == Listing.iptables(listed), "\(label) \(family)")
    }
  }

  /// Where two snapshots differ, rule by rule: `ip filter INPUT #1 @120: 0 vs 5`.
  static func differences(_ a: IPTSnapshot, _ b: IPTSnapshot) -> [String] {
    var out: [String] = []
    for (ta, tb) in zip(a.tables, b.tables) {
      for (ca, cb) in zip(ta.chains, tb.chains) {
        if ca.policy != cb.policy || ca.name != cb.name { out.append("\(ta.id) \(ca.name) vs \(cb.name)") }
        for (i, (ra, rb)) in zip(ca.rules, cb.rules).enumerated() {
          let offsets = zip(ra.entry, rb.entry).enumerated().filter { $0.1.0 != $0.1.1 }.prefix(4)
          for (at, (x, y)) in offsets { out.append("\(ta.id) \(ca.name) #\(i + 1) @\(at): \(x) vs \(y)") }
          if ra.entry.count != rb.entry.count { out.append("\(ta.id) \(ca.name) #\(i + 1) size") }
        }
      }
    }
    return out
  }

  @Test func tablesThePolicyDoesNotUseSurvive() throws {
    let ns = try ScratchNamespace("ipt")
    defer { ns.remove() }
    try ns.check(["/usr/sbin/iptables-legacy", "-t", "raw", "-A", "PREROUTING", "-s", "9.9.9.9", "-j", "DROP"])
    try ns.check(["/usr/sbin/iptables-legacy", "-t", "nat", "-N", "foreign"])
    let before = try Self.listing(ns)
    let output = try Self.output("Tests/BackendTests/Golden/basic.policy")
    try Self.native(ns) { try IPTablesNative().apply(output) }
    let after = try Self.listing(ns)
    #expect(after["ip raw"] == before["ip raw"])
    #expect(after["ip nat"] == before["ip nat"])
    #expect(after["ip filter"]?.contains { $0.contains("-A FORWARD -s 11.11.11.0/24") } == true)
    #expect(after["ip6 filter"] == nil, "IPv6 tables the policy does not use are not even loaded")
  }

  @Test func snapshotApplyRestoreIsExact() throws {
    let ns = try ScratchNamespace("ipt")
    defer { ns.remove() }
    let features = try Self.output("Tests/BackendTests/Golden/iptables-features.policy")
    let ip6 = try Self.output("Tests/BackendTests/Golden/ip6.policy")
    let first = IPTablesOutput(ipv4: features.ipv4, ipv6: ip6.ipv6)
    try Self.native(ns) { try IPTablesNative().apply(first) }
    let saved = try Self.native(ns) { try IPTablesNative().snapshot() }
    let before = try Self.listing(ns)

    let nat = try Self.output("Tests/BackendTests/Golden/nat.policy")
    let inet = try Self.output("Tests/BackendTests/Golden/inet.policy")
    try Self.native(ns) { try IPTablesNative().apply(IPTablesOutput(ipv4: nat.ipv4, ipv6: inet.ipv6)) }
    #expect(try Self.listing(ns) != before)

    try Self.native(ns) { try IPTablesNative().restore(saved) }
    #expect(try Self.listing(ns) == before)
    let again = try Self.native(ns) { try IPTablesNative().snapshot() }
    #expect(again.equalsIgnoringCounters(saved))
    // The snapshot survives a trip through JSON (Deployment stores it).
    let decoded = try JSONDecoder().decode(IPTSnapshot.self, from: JSONEncoder().encode(saved))
    #expect(decoded == saved)
  }

  @Test func aCommitTheKernelRefusesChangesNothing() throws {
    let ns = try ScratchNamespace("ipt")
    defer { ns.remove() }
    try Self.native(ns) { try IPTablesNative().apply(try Self.output("Rules/lab.policy")) }
    let before = try Self.listing(ns)

    // REJECT --reject-with tcp-reset without -p tcp: the kernel's REJECT check says EINVAL.
    let refused = """
      *filter
      :INPUT ACCEPT [0:0]
      :FORWARD ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      -A INPUT -j REJECT --reject-with tcp-reset
      COMMIT

      """
    let error = try Self.expectError(in: ns) { try IPTablesNative().apply(IPTablesOutput(ipv4: refused, ipv6: nil)) }
    #expect(error == .kernel(operation: "commit table", object: "ip filter", errno: EINVAL, message: error.message))
    #expect(error.description.hasPrefix("cannot commit table ip filter: "))
    #expect(error.description.hasSuffix("(EINVAL)"))
    #expect(try Self.listing(ns) == before)
  }

  @Test func aLaterTableFailingPutsTheEarlierTablesBack() throws {
    let ns = try ScratchNamespace("ipt")
    defer { ns.remove() }
    try Self.native(ns) { try IPTablesNative().apply(try Self.output("Rules/lab.policy")) }
    let before = try Self.listing(ns)
    // filter commits first and succeeds; nat then fails (REJECT is a filter-table target).
    let text = """
      *filter
      :INPUT DROP [0:0]
      :FORWARD ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      -A INPUT -s 10.0.0.0/8 -j ACCEPT
      COMMIT
      *nat
      :PREROUTING ACCEPT [0:0]
      :INPUT ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      :POSTROUTING ACCEPT [0:0]
      -A PREROUTING -j REJECT --reject-with icmp-port-unreachable
      COMMIT

      """
    let error = try Self.expectError(in: ns) { try IPTablesNative().apply(IPTablesOutput(ipv4: text, ipv6: nil)) }
    #expect(error.description.hasPrefix("cannot commit table ip nat: "), "\(error)")
    var after = try Self.listing(ns)
    // The nat table was loaded by the attempt (x_tables cannot unload it) but is empty.
    #expect(after.removeValue(forKey: "ip nat")?.contains { $0.hasPrefix("-A") } == false)
    #expect(after == before)
  }

  @Test func badInputIsRefusedBeforeTheKernelAndNamesTheLine() throws {
    let ns = try ScratchNamespace("ipt")
    defer { ns.remove() }
    try Self.native(ns) { try IPTablesNative().apply(try Self.output("Rules/lab.policy")) }
    let before = try Self.listing(ns)

    let jump = IPTRuleset(tables: [
      IPTTable(
        family: .ipv4, name: "filter",
        chains: ["INPUT", "FORWARD", "OUTPUT"].map { IPTChain(name: $0, policy: "ACCEPT") },
        rules: [IPTRule(chain: "INPUT", target: .jump("nowhere"), line: 7)])
    ])
    let jumpError = try Self.expectError(in: ns) { try IPTablesNative().apply(jump) }
    #expect(
      jumpError
        == .invalidRule(
          table: "ip filter", chain: "INPUT", line: 7,
          reason: "jump to 'nowhere', which is not a user chain of the table"))

    let text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m time --timestart 09:00 -j ACCEPT\nCOMMIT\n"
    let parseError = try Self.expectError(in: ns) { try IPTablesNative().apply(IPTablesOutput(ipv4: text, ipv6: nil)) }
    #expect(parseError.description == "line 3: unsupported match -m time: -A INPUT -m time --timestart 09:00 -j ACCEPT")
    #expect(try Self.listing(ns) == before)

    // A known extension with a bad option: the whole ruleset is refused, the earlier table too.
    let bad = """
      *raw
      :PREROUTING ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      -A OUTPUT -j NOTRACK
      COMMIT
      *filter
      :INPUT ACCEPT [0:0]
      :FORWARD ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      -A OUTPUT -m owner --uid-owner 0 -j ACCEPT
      -A OUTPUT -m owner --uid-owner 4294967295 -j ACCEPT
      COMMIT

      """
    let optionError = try Self.expectError(in: ns) { try IPTablesNative().apply(IPTablesOutput(ipv4: bad, ipv6: nil)) }
    #expect(
      optionError.description
        == "line 11: bad --uid-owner 4294967295: -A OUTPUT -m owner --uid-owner 4294967295 -j ACCEPT")
    #expect(try Self.listing(ns) == before)
  }

  @Test func writersWaitForTheXtablesLock() throws {
    let ns = try ScratchNamespace("ipt")
    defer { ns.remove() }
    let output = try Self.output("Rules/lab.policy")
    // A private lock file: holding the real /run/xtables.lock would stall other iptables users.
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("fbt-xtables-\(UUID()).lock").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let lock = try XTablesLock(path: path, timeout: 5)
    let error = try Self.expectError(in: ns) {
      try IPTablesNative(locking: .acquire(timeout: 0.2), lockPath: path).apply(output)
    }
    #expect(error == .lockTimeout(path: path, seconds: 0.2))
    #expect(try Self.listing(ns)["ip filter"] == nil, "nothing was applied")
    // A caller that holds the lock says so and goes ahead.
    try Self.native(ns) { try IPTablesNative(locking: .heldByCaller, lockPath: path).apply(output) }
    lock.unlock()
    #expect(try Self.listing(ns)["ip filter"]?.contains(":FORWARD DROP [0:0]") == true)
    // Released: the next writer gets it at once.
    try Self.native(ns) { try IPTablesNative(locking: .acquire(timeout: 0.2), lockPath: path).apply(output) }
  }

  /// Runs `body` in the namespace and returns the error it must throw.
  static func expectError(in ns: ScratchNamespace, _ body: @escaping () throws -> Void) throws -> IPTablesNativeError {
    do {
      try native(ns, body)
    } catch let error as IPTablesNativeError {
      return error
    }
    throw TestFailure("expected an IPTablesNativeError")
  }
}

extension IPTablesNativeError {
  /// The errno text of a kernel error.
  var message: String {
    if case .kernel(_, _, _, let message) = self { return message }
    return ""
  }
}
