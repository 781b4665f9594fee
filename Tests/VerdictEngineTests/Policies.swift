import NetfilterModel
import PolicyLanguage

/// The policies the table-driven verdict tests run against, by name.
enum Policies {
  /// Connection marks (iptables connmark/CONNMARK): set, saved from and restored to the packet
  /// mark across the raw, mangle and filter tables.
  static let connmark = """
    table ip raw {
      chain PREROUTING {
        type filter hook prerouting priority raw; policy accept;
        udp dport 9 nft statement "notrack"
        ct mark 0x0 meta mark set 0x77
      }
    }
    table ip mangle {
      chain PREROUTING {
        type filter hook prerouting priority mangle; policy accept;
        udp dport 7 meta mark set ct mark
        ip saddr 10.0.0.1 meta mark set 0x1
        ip saddr 10.0.0.2 ct mark set 0x2
        meta mark != 0x0 ct mark set meta mark
        ct mark 0x5 meta mark set ct mark
      }
    }
    table ip filter {
      chain INPUT {
        type filter hook input priority filter; policy drop;
        meta mark 0x77 drop
        udp dport 7 meta mark 0x5 accept
        ct mark 0x1 meta mark 0x1 accept
        ct mark 0x2 meta mark 0x0 accept
        ct mark != 0x1 udp dport 9 accept
        ct mark & 0xf0 == 0x50 accept
        ct state established meta mark 0x5 accept
      }
    }
    """

  /// Address types (`fib … type`, iptables addrtype) on a host without topology: it owns the
  /// destination of what it receives and the source of what it sends.
  static let addressType = """
    table ip filter {
      chain INPUT {
        type filter hook input priority filter; policy drop;
        fib daddr type broadcast udp dport 67 accept
        fib daddr type multicast drop
        fib saddr type local accept
        fib daddr type != local reject
        fib daddr type local tcp dport 22 accept
      }
      chain FORWARD {
        type filter hook forward priority filter; policy drop;
        fib daddr type { local, broadcast } drop
        fib saddr type { unicast } fib daddr type unicast accept
      }
      chain OUTPUT {
        type filter hook output priority filter; policy accept;
        fib saddr type != local drop
      }
    }
    """

  /// Address types read from a topology: R owns 10.0.1.1 and 10.0.2.1 on two interfaces.
  static let routedTypes = """
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
      route default via 10.0.1.1 in A
      route default via 10.0.2.1 in B
      sysctl R net.ipv4.ip_forward = 1
    }

    firewall R {
      table ip filter {
        chain INPUT {
          type filter hook input priority filter; policy drop;
          fib saddr type local drop
          fib daddr type local icmp type echo-request accept
        }
        chain FORWARD {
          type filter hook forward priority filter; policy drop;
          fib daddr type { local, broadcast } drop
          fib saddr type unicast fib daddr type unicast accept
        }
        chain OUTPUT {
          type filter hook output priority filter; policy drop;
          fib saddr type local fib daddr type unicast accept
        }
      }
    }
    """

  /// Where conntrack has run: a notrack after it changes nothing, and an input chain before
  /// priority -200 still sees the state prerouting gave the packet.
  static let conntrackOrder = """
    table ip t {
      chain late_pre {
        type filter hook prerouting priority 0; policy accept;
        udp dport 9 nft statement "notrack"
      }
      chain early_in {
        type filter hook input priority -300; policy accept;
        ct state untracked drop
        ct state new udp dport 9 drop
      }
    }
    """

  static let input = """
    table ip filter {
      chain INPUT {
        type filter hook input priority filter; policy drop;
        iifname "lo" accept
        ct state established,related accept
        ct state invalid drop
        ip saddr 10.0.0.0/8 tcp dport 22 accept
        ip saddr != 192.168.0.0/16 tcp dport 80 drop
        tcp dport { 80, 443, 8000-8080 } accept
        udp dport 53 ip saddr 192.168.1.0/24 accept
        icmp type echo-request accept
        iifname "veth*" udp dport 5000 accept
        iifname != "eth0" udp dport 5001 accept
        meta mark 0x10 accept
        meta mark & 0xff00 == 0x100 accept
        ether saddr 00:11:22:33:44:55 tcp dport 2222 accept
        tcp dport 25 tcp flags syn / syn,ack reject with tcp reset
        ip daddr 192.168.9.1-192.168.9.9 reject
        limit rate over 10/second drop
        ip protocol gre accept
        udp sport 123 udp dport 123 accept
        iifname { "eth5", "eth6*" } udp dport 6000 accept
        tcp dport != { 1-1000, 2000 } tcp sport 4444 accept
        icmp type destination-unreachable icmp code { host-unreachable, port-unreachable } accept
        meta l4proto { tcp, udp } ip saddr 198.18.0.0-198.19.255.255 drop
        jump tail
      }

      chain tail {
        tcp dport 7 return
        tcp dport 8 accept
        udp dport 8 goto tail2
        udp dport 9 jump tail2
        udp dport 9 accept
        udp dport 11 goto tail2
        udp dport 11 accept
        meta mark set 0x10
        meta mark 0x10 tcp dport 10 accept
      }

      chain tail2 {
        udp dport 8 drop
        ip saddr 172.16.0.0/12 return
        udp dport 9 reject
      }
    }
    """

  static let multi = """
    table ip raw {
      chain PREROUTING {
        type filter hook prerouting priority raw; policy accept;
        ct state invalid udp dport 111 drop
        ct state new udp dport 112 drop
      }
    }

    table inet early {
      chain pre {
        type filter hook prerouting priority -150; policy accept;
        ip saddr 203.0.113.0/24 drop
        ip6 saddr 2001:db8:bad::/48 drop
        tcp dport 81 accept
        ip saddr != 1.2.3.4 udp dport 7777 drop
      }

      chain in {
        type filter hook input priority 10; policy accept;
        tcp dport 81 drop
        meta l4proto udp udp dport 999 reject
      }
    }

    table ip filter {
      chain INPUT {
        type filter hook input priority filter; policy accept;
        tcp dport 82 drop
        ip saddr != 10.0.0.0/8 tcp dport 83 drop
      }

      chain FORWARD {
        type filter hook forward priority filter; policy drop;
        iifname "eth0" oifname "eth1" accept
        oifname "eth0" ct state established accept
      }

      chain OUTPUT {
        type filter hook output priority filter; policy accept;
        oifname "eth9" drop
        iifname "eth0" drop
        iifname != "eth0" tcp dport 84 drop
      }
    }

    table ip6 filter6 {
      chain INPUT {
        type filter hook input priority filter; policy drop;
        icmpv6 type echo-request accept
        ip6 saddr fe80::/10 udp dport 546 accept
        ip6 daddr 2001:db8::10-2001:db8::20 tcp dport 22 accept
      }
    }
    """

  static let nat = """
    table ip nat {
      chain PREROUTING {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "eth0" tcp dport 8080 dnat to 192.168.1.10:80
        tcp dport 3128 redirect to :8080
      }

      chain POSTROUTING {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth0" ip saddr 192.168.1.0/24 snat to 203.0.113.1
      }
    }

    table ip filter {
      chain FORWARD {
        type filter hook forward priority filter; policy drop;
        ip daddr 192.168.1.10 tcp dport 80 accept
        ip saddr 192.168.1.0/24 oifname "eth0" accept
        ip saddr 203.0.113.1 drop
      }

      chain INPUT {
        type filter hook input priority filter; policy drop;
        tcp dport 8080 accept
      }
    }

    table ip dropnat {
      chain early {
        type nat hook prerouting priority -150; policy accept;
        udp dport 4000 drop
      }
    }
    """

  static let lab = """
    topology {
      namespace host
      namespace RED
      namespace BLUE
      bridge br0 in host
      veth reth0 in RED peer reth1 in host master br0
      veth beth0 in BLUE peer beth1 in host master br0
      address 11.11.11.2/24 dev reth0
      address 11.11.11.3/24 dev beth0
      address 11.11.11.1/24 dev br0
    }

    firewall host {
      table ip filter {
        chain FORWARD {
          type filter hook forward priority filter; policy drop;
          physdev in "reth1" physdev out "beth1" accept
          iifname "br0" oifname "br0" icmp type echo-request ip daddr 11.11.11.2 accept
        }

        chain INPUT {
          type filter hook input priority filter; policy accept;
          physdev in "beth1" tcp dport 22 drop
        }
      }
    }

    firewall BLUE {
      table ip filter {
        chain INPUT {
          type filter hook input priority filter; policy accept;
          ip saddr 11.11.11.2 tcp dport 22 drop
        }
      }
    }

    firewall RED {
      table ip filter {
        chain OUTPUT {
          type filter hook output priority filter; policy accept;
          tcp dport 23 reject with tcp reset
        }
      }
    }
    """

  static let labNoBridgeHooks = """
    topology {
      namespace host
      namespace RED
      namespace BLUE
      bridge br0 in host
      veth reth0 in RED peer reth1 in host master br0
      veth beth0 in BLUE peer beth1 in host master br0
      address 11.11.11.2/24 dev reth0
      address 11.11.11.3/24 dev beth0
      sysctl host net.bridge.bridge-nf-call-iptables = 0
    }

    firewall host {
      table ip filter {
        chain FORWARD {
          type filter hook forward priority filter; policy drop;
        }
      }
    }
    """

  static let routed = """
    topology {
      namespace A
      namespace R
      namespace B
      namespace C
      veth a0 in A peer r0 in R
      veth b0 in B peer r1 in R
      veth c0 in C peer r2 in R
      address 10.0.1.2/24 dev a0
      address 10.0.1.1/24 dev r0
      address 10.0.2.1/24 dev r1
      address 10.0.2.2/24 dev b0
      address 10.0.3.1/24 dev r2
      address 10.0.3.2/24 dev c0
      route default via 10.0.1.1 in A
      route default via 10.0.2.1 in B
      route 10.0.1.0/24 via 10.0.3.1 in C
      sysctl R net.ipv4.ip_forward = 1
    }

    firewall R {
      table ip filter {
        chain FORWARD {
          type filter hook forward priority filter; policy drop;
          iifname "r0" oifname "r1" accept
          iifname "r1" oifname "r0" ct state established,related accept
          oifname "r2" udp dport 53 accept
        }
      }

      table ip nat {
        chain POSTROUTING {
          type nat hook postrouting priority srcnat; policy accept;
          oifname "r1" masquerade
        }
      }
    }

    firewall B {
      table ip filter {
        chain INPUT {
          type filter hook input priority filter; policy drop;
          ip saddr 10.0.2.1 icmp type echo-request accept
        }
      }
    }
    """

  /// `meta nfproto` and the interface-index matches `iif`/`oif` (OpenWrt's fw4 writes both).
  static let families = """
    table inet fw {
      chain input {
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        meta nfproto ipv4 udp dport 68 accept
        meta nfproto != ipv4 udp dport 546 accept
        iif != { "lo", "eth0" } tcp dport 22 accept
      }

      chain output {
        type filter hook output priority filter; policy drop;
        oif "lo" accept
        iif "lo" tcp dport 25 accept
      }
    }
    """

  static let all: [String: String] = [
    "connmark": connmark, "conntrackOrder": conntrackOrder, "addressType": addressType, "routedTypes": routedTypes,
    "input": input, "multi": multi,
    "nat": nat, "lab": lab, "labNoBridgeHooks": labNoBridgeHooks, "routed": routed, "families": families,
  ]

  static func policy(_ name: String) throws -> Policy {
    var resolver = Resolver(source: MemorySource(["\(name).policy": all[name]!]))
    let (policy, diagnostics) = resolver.resolve(path: "\(name).policy")
    guard let policy else { throw PolicyError(diagnostics: diagnostics.map(\.description)) }
    return policy
  }

  struct PolicyError: Error { var diagnostics: [String] }
}
