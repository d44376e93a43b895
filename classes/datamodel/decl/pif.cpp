// PIF: physical network interface (note separate VLANs are represented as several PIFs).
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_PIF(Declarations& d) {
  auto c = d.cls("PIF", "physical network interface (note separate VLANs are represented as several PIFs)", "rio");
  c.implicit(kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, PO, PA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("device", "string", SRO, "rio", "machine-readable name of the interface (e.g. eth0)");
  c.field("network", "network ref", SRO, "rio", "virtual network to which this pif is connected");
  c.field("host", "host ref", SRO, "rio", "physical machine to which this pif is connected");
  c.field("MAC", "string", SRO, "rio", "ethernet MAC address of physical interface");
  c.field("MTU", "int", SRO, "rio", "MTU in octets");
  c.field("VLAN", "int", SRO, "rio", "VLAN tag for all traffic passing through this interface");
  c.field("metrics", "PIF_metrics ref", DRO, "rio", "metrics associated with this PIF");
  c.field("physical", "bool", DRO, "miami", "true if this represents a physical network interface");
  c.field("currently_attached", "bool", DRO, "miami", "true if this interface is online");
  c.field("ip_configuration_mode", "enum ip_configuration_mode", DRO, "miami", "sets if and how this interface gets an IP address");
  c.field("IP", "string", DRO, "miami", "IP address");
  c.field("netmask", "string", DRO, "miami", "IP netmask");
  c.field("gateway", "string", DRO, "miami", "IP gateway");
  c.field("DNS", "string", DRO, "miami", "comma separated list of the IP addresses of the DNS servers to use");
  c.field("bond_slave_of", "Bond ref", DRO, "miami", "indicates which bond this interface is part of");
  c.field("bond_master_of", "Bond ref set", DRO, "miami", "indicates this PIF represents the results of a bond");
  c.field("VLAN_master_of", "VLAN ref", DRO, "miami", "indicates which VLAN this interface receives untagged traffic from");
  c.field("VLAN_slave_of", "VLAN ref set", DRO, "miami", "indicates which VLANs this interface transmits tagged traffic to");
  c.field("management", "bool", DRO, "miami", "indicates whether the control software is listening for connections on…");
  c.field("other_config", "(string->string) map", RW, "miami", "additional configuration").def("{}");
  c.field("disallow_unplug", "bool", DRO, "orlando", "prevent this PIF from being unplugged; set this to notify the managemen…");
  c.field("tunnel_access_PIF_of", "tunnel ref set", DRO, "cowley", "indicates to which tunnel this PIF gives access");
  c.field("tunnel_transport_PIF_of", "tunnel ref set", DRO, "cowley", "indicates to which tunnel this PIF provides transport");
  c.field("ipv6_configuration_mode", "enum ipv6_configuration_mode", DRO, "tampa", "sets if and how this interface gets an IPv6 address");
  c.field("IPv6", "string set", DRO, "tampa", "IPv6 address");
  c.field("ipv6_gateway", "string", DRO, "tampa", "IPv6 gateway");
  c.field("primary_address_type", "enum primary_address_type", DRO, "tampa", "which protocol should define the primary address of this interface");
  c.field("managed", "bool", SRO, "vgpu-productisation", "indicates whether the interface is managed by xapi").def("true");
  c.field("properties", "(string->string) map", DRO, "creedence", "additional configuration properties for the interface");
  c.field("capabilities", "string set", DRO, "dundee", "additional capabilities on the interface");
  c.field("igmp_snooping_status", "enum pif_igmp_status", DRO, "inverness", "IGMP snooping status of the corresponding network bridge");
  c.field("sriov_physical_PIF_of", "network_sriov ref set", DRO, "kolkata", "indicates which network_sriov this interface is physical of");
  c.field("sriov_logical_PIF_of", "network_sriov ref set", DRO, "kolkata", "indicates which network_sriov this interface is logical of");
  c.field("PCI", "PCI ref", DRO, "kolkata", "link to underlying PCI device");

  c.message("create_VLAN", "device:string, network:network ref, host:host ref, VLAN:int", "PIF ref", PO, "rio dep(miami)",
            "create a VLAN interface from an existing physical interface")
      .errors("VLAN_TAG_INVALID")
      .ni();
  c.message("db_forget", "self:PIF ref", "void", PO, "orlando",
            "destroy a PIF database record")
      .ni();
  c.message("db_introduce", "device:string, network:network ref, host:host ref, MAC:string, MTU:int, VLAN:int, physical:bool, ip_configuration_mode:enum ip_configuration_mode, IP:string, netmask:string, gateway:string, DNS:string, bond_slave_of:Bond ref, VLAN_master_of:VLAN ref, management:bool, other_config:(string->string) map, disallow_unplug:bool = false, ipv6_configuration_mode:enum ipv6_configuration_mode = None, IPv6:string set = {}, ipv6_gateway:string = \"\", primary_address_type:enum primary_address_type = IPv4, managed:bool = true, properties:(string->string) map = {}", "PIF ref", PO, "orlando",
            "create a new PIF record in the database only")
      .ni();
  c.message("destroy", "self:PIF ref", "void", PO, "rio dep(miami)",
            "destroy the PIF object (provided it is a VLAN interface)")
      .errors("PIF_IS_PHYSICAL")
      .ni();
  c.message("forget", "self:PIF ref", "void", PO, "miami",
            "destroy the PIF object matching a particular network interf…")
      .errors("PIF_TUNNEL_STILL_EXISTS, CLUSTERING_ENABLED")
      .ni();
  c.message("introduce", "host:host ref, MAC:string, device:string, managed:bool = true", "PIF ref", PO, "miami",
            "create a PIF object matching a particular network interface")
      .ni();
  c.message("plug", "self:PIF ref", "void", PO, "miami",
            "attempt to bring up a physical interface")
      .errors("TRANSPORT_PIF_NOT_CONFIGURED")
      .ni();
  c.message("reconfigure_ip", "self:PIF ref, mode:enum ip_configuration_mode, IP:string, netmask:string, gateway:string, DNS:string", "void", PO, "miami",
            "reconfigure the IP address settings for this interface")
      .errors("CLUSTERING_ENABLED")
      .ni();
  c.message("reconfigure_ipv6", "self:PIF ref, mode:enum ipv6_configuration_mode, IPv6:string, gateway:string, DNS:string", "void", PO, "tampa",
            "reconfigure the IPv6 address settings for this interface")
      .errors("CLUSTERING_ENABLED")
      .ni();
  c.message("scan", "host:host ref", "void", PO, "miami",
            "scan for physical interfaces on a host and create PIF objec…")
      .ni();
  c.message("set_disallow_unplug", "self:PIF ref, value:bool", "void", PO, "orlando",
            "set whether unplugging the PIF is allowed")
      .errors("OTHER_OPERATION_IN_PROGRESS, CLUSTERING_ENABLED")
      .ni();
  c.message("set_primary_address_type", "self:PIF ref, primary_address_type:enum primary_address_type", "void", PO, "tampa",
            "change the primary address type used by this PIF")
      .ni();
  c.message("set_property", "self:PIF ref, name:string, value:string", "void", PO, "creedence",
            "set the value of a property of the PIF")
      .ni();
  c.message("unplug", "self:PIF ref", "void", PO, "miami",
            "attempt to bring down a physical interface")
      .errors("HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN, VIF_IN_USE, PIF_DOES_NOT_ALLOW_UNPLUG, PIF_HAS_FCOE_SR_IN_USE")
      .ni();
}

}  // namespace xenapi::dm
