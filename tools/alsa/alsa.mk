# The virtual sound card for audio tests and benchmarks (tools/alsa/pcm_vcard.c), and the
# test-side harness library (tools/alsa/vcard_rig.c). Rules write only under build/alsa/.
#
#   make alsa-plugin    build/alsa/libasound_module_pcm_vcard.so plus the harness objects
#
# The harness writes a per-test asoundrc from tools/alsa/asoundrc.in and points
# ALSA_CONFIG_PATH at it; it finds the plugin at build/alsa/ (or $RINKI_VCARD_LIB).

VCARD_SO := build/alsa/libasound_module_pcm_vcard.so

.PHONY: alsa-plugin
alsa-plugin: $(VCARD_SO) build/alsa/san/vcard_rig.o build/alsa/rel/vcard_rig.o

# -DPIC: alsa-lib's plugin macros need it (else "undefined symbol: snd_dlsym_start").
$(VCARD_SO): tools/alsa/pcm_vcard.c tools/alsa/vcard_clock.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -DPIC -shared -o $@ $< \
		$(shell pkg-config --cflags --libs alsa) -lpthread -lm

build/alsa/san/vcard_rig.o: tools/alsa/vcard_rig.c tools/alsa/vcard_rig.h tools/alsa/vcard_clock.h
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -c $< -o $@

build/alsa/rel/vcard_rig.o: tools/alsa/vcard_rig.c tools/alsa/vcard_rig.h tools/alsa/vcard_clock.h
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -c $< -o $@
