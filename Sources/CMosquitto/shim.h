#ifndef PLATESTREAM_CMOSQUITTO_SHIM_H
#define PLATESTREAM_CMOSQUITTO_SHIM_H

// libmosquitto, the Eclipse Mosquitto broker's own MQTT client library (Debian: libmosquitto-dev).
// Imported internal from PlateMQTT only.
#include <mosquitto.h>

#endif
