// File-based storage: each SR is a folder of volumes (one sparse file per
// VDI, "<uuid>.img"), created, copied and deleted through the hypervisor
// backend. Volume files are made before their VDI record is stored and
// removed after it is gone, so backend I/O never runs under a store lock.
#pragma once

#include <string>

#include "classes/api/call.h"

namespace xenapi::storage {

enum class CopyKind : uint8_t { Clone, Snapshot, Copy };

// Creates a volume and its VDI record from a coerced VDI record (VDI.create).
std::string create_vdi(Call& c, const Map& record);
// A disk the server makes itself (provisioning, suspend images).
std::string create_vdi(Call& c, const std::string& sr, const std::string& name, int64_t size,
                       const std::string& type, const std::string& description = "");
// Destroys a VDI record and its volume; VDI_IN_USE [vdi, "destroy"] while attached.
void destroy_vdi(Call& c, const std::string& vdi);
// A new VDI with the source's data: a clone (same SR, writable), a snapshot
// (same SR, read-only, snapshot_of the source) or a copy into `sr` (NULL:
// the source's SR).
std::string copy_vdi(Call& c, const std::string& vdi, CopyKind kind, const std::string& sr = "",
                     const std::string& name = "");
// Recomputes an SR's virtual_allocation and physical_utilisation.
void update_sr_usage(Txn& t, const std::string& sr);
// Whether a VBD currently attached to a running domain uses the VDI.
bool vdi_in_use(const View& v, const std::string& vdi);
// The SR to use when a call names none: the pool's default SR.
std::string default_sr(const View& v);

// Derived fields of a VDI (allowed_operations).
void derive_vdi(Txn& t, const std::string& vdi);

}  // namespace xenapi::storage
