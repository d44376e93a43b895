// VBD: virtual block device.
#include "classes/datamodel/declare.h"

namespace xenapi::dm {

void declare_VBD(Declarations& d) {
  auto c = d.cls("VBD", "virtual block device", "rio");
  c.implicit(kCreate | kDestroy | kGetAll | kGetByUuid | kGetRecord | kFieldAccessors)
      .roles(RO, VA, VA);

  c.field("uuid", "string", DRO, "rio", "unique identifier/object reference");
  c.field("allowed_operations", "enum vbd_operations set", DRO, "rio", "list of the operations allowed in this state");
  c.field("current_operations", "(string->enum vbd_operations) map", DRO, "rio", "links each of the running tasks using this object (by reference) to a c…");
  c.field("VM", "VM ref", SRO, "rio", "virtual machine");
  c.field("VDI", "VDI ref", SRO, "rio", "virtual disk");
  c.field("device", "string", SRO, "rio", "device seen by the guest e.g. hda1").def("\"\"");
  c.field("userdevice", "string", RW, "rio", "user-friendly device name e.g. 0,1,2,etc");
  c.field("bootable", "bool", RW, "rio", "true if this VBD is bootable");
  c.field("mode", "enum vbd_mode", SRO, "rio", "mode the VBD should be mounted with");
  c.field("type", "enum vbd_type", RW, "rio", "how the VBD will appear to the guest (e.g. disk or CD)");
  c.field("unpluggable", "bool", RW, "miami", "true if this VBD will support hot-unplug").def("true");
  c.field("storage_lock", "bool", DRO, "rio", "true if a storage level lock was acquired");
  c.field("empty", "bool", SRO, "rio", "if true this represents an empty drive");
  c.field("other_config", "(string->string) map", RW, "rio", "additional configuration");
  c.field("currently_attached", "bool", SRO, "rio", "is the device currently attached (erased on reboot)").def("false");
  c.field("status_code", "int", DRO, "rio", "error/success code associated with last attach-operation (erased on reb…");
  c.field("status_detail", "string", DRO, "rio", "error/success information associated with last attach-operation status…");
  c.field("runtime_properties", "(string->string) map", DRO, "rio", "device runtime properties");
  c.field("qos_algorithm_type", "string", RW, "rio", "qoS algorithm to use").db("qos__algorithm_type");
  c.field("qos_algorithm_params", "(string->string) map", RW, "rio", "parameters for chosen QoS algorithm").db("qos__algorithm_params");
  c.field("qos_supported_algorithms", "string set", DRO, "rio", "supported QoS algorithms for this VBD").db("qos__supported_algorithms");
  c.field("metrics", "VBD_metrics ref", DRO, "rio REMOVED(tampa)", "metrics associated with this VBD");

  c.message("assert_attachable", "self:VBD ref", "void", VA, "rio",
            "throws an error if this VBD could not be attached to this V…");
  c.message("eject", "vbd:VBD ref", "void", VO, "rio",
            "remove the media from the device and leave it empty")
      .errors("VBD_NOT_REMOVABLE_MEDIA, VBD_IS_EMPTY")
      .blocking();
  c.message("insert", "vbd:VBD ref, vdi:VDI ref", "void", VO, "rio",
            "insert new media into the device")
      .errors("VBD_NOT_REMOVABLE_MEDIA, VBD_NOT_EMPTY")
      .blocking();
  c.message("plug", "self:VBD ref", "void", VA, "rio",
            "hotplug the specified VBD, dynamically attaching it to the…")
      .blocking();
  c.message("set_mode", "self:VBD ref, value:enum vbd_mode", "void", VA, "rio",
            "sets the mode of the VBD");
  c.message("unplug", "self:VBD ref", "void", VA, "rio",
            "hot-unplug the specified VBD, dynamically unattaching it fr…")
      .errors("DEVICE_DETACH_REJECTED, DEVICE_ALREADY_DETACHED")
      .blocking();
  c.message("unplug_force", "self:VBD ref", "void", VA, "rio",
            "forcibly unplug the specified VBD")
      .blocking();
}

}  // namespace xenapi::dm
