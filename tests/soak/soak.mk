# make soak: a load run by hand (tests/soak/soak.c), not part of make test. Builds the
# release binaries, runs 100 SDS/s for 60 s, 1,000 incidents and ~100 under valgrind.
.PHONY: soak
build/soak/soak: tests/soak/soak.c tests/integration/harness.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -Itests/integration -o $@ $^ $(PKG_LIBS) -lm

soak: all build/soak/soak
	RINKI_BIN=build build/soak/soak
