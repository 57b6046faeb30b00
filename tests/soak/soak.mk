# make soak: a load run by hand (tests/soak/soak.c), not part of make test. Builds the
# release binaries, runs 100 SDS/s for 60 s, 1,000 incidents and ~100 under valgrind.
# make soak-short (part of make test, ~5 s): 2 s of SDS and 300 back-to-back incidents, no
# valgrind; it caught answers taken by the wrong AT command that no other test showed.
.PHONY: soak soak-short
build/soak/soak: tests/soak/soak.c tests/integration/harness.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -Itests/integration -o $@ $(INPUTS) $(PKG_LIBS) -lm

soak: all build/soak/soak
	RINKI_BIN=build build/soak/soak

soak-short: all build/soak/soak
	@SOAK_SDS_SECONDS=2 SOAK_INCIDENTS=300 SOAK_VG_INCIDENTS=0 SOAK_TIDY=1 RINKI_BIN=build \
		build/soak/soak

# make test's step: the same run, through tests/run-test.sh (Makefile).
run/soak-short: all build/soak/soak FORCE
	@SOAK_SDS_SECONDS=2 SOAK_INCIDENTS=300 SOAK_VG_INCIDENTS=0 SOAK_TIDY=1 RINKI_BIN=build \
		$(RUN_TEST) soak-short build/soak/soak
