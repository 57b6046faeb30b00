# tools/install.mk: installs what runs rinki on a board besides the binaries: man pages,
# the systemd unit, tmpfiles, the example config and udev rules. Included by the root
# Makefile; its install target depends on install-ops. PREFIX and DESTDIR are honoured;
# the unit is written with the real sbin path. System integration paths (unit, tmpfiles)
# follow PREFIX=/usr packaging; for PREFIX=/usr/local they go under $(PREFIX)/lib too and
# systemd finds them there only if told (systemctl link), so packagers use PREFIX=/usr.

MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/rinki
UNITDIR     ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SYSCONFDIR  ?= /etc

.PHONY: install-ops
install-ops:
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 tools/man/rinkictl.1 tools/man/rinki-flash.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 tools/man/rinki.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 tools/man/rinkid.8 tools/man/rinki-web.8 tools/man/rinki-sync.8 \
		$(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DOCDIR)
	sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@BINDIR@|$(PREFIX)/bin|g' tools/systemd/rinkid.service > $(DESTDIR)$(UNITDIR)/rinkid.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/rinkid.service
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' tools/systemd/rinki-web.service > $(DESTDIR)$(UNITDIR)/rinki-web.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/rinki-web.service
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' tools/systemd/rinki-sync.service > \
		$(DESTDIR)$(UNITDIR)/rinki-sync.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/rinki-sync.service
	install -m 0644 tools/systemd/rinki.tmpfiles $(DESTDIR)$(TMPFILESDIR)/rinki.conf
	@# the example names the prompt directory of this PREFIX (rinkid's built-in default)
	sed 's|/usr/local/share/rinki/|$(PREFIX)/share/rinki/|g' tools/rinki.conf.example \
		> build/rinki.conf.example
	install -m 0644 build/rinki.conf.example tools/udev/99-rinki.rules.example $(DESTDIR)$(DOCDIR)/
	@# the config itself only when there is none: never overwrite a field configuration
	install -d $(DESTDIR)$(SYSCONFDIR)/rinki
	test -e $(DESTDIR)$(SYSCONFDIR)/rinki/rinki.conf || \
		install -m 0640 build/rinki.conf.example $(DESTDIR)$(SYSCONFDIR)/rinki/rinki.conf
	@echo "installed. On the board, once: useradd --system --user-group rinki;"
	@echo "  groupadd --system rinki-admin; usermod -aG dialout,audio rinki;"
	@echo "  systemd-tmpfiles --create rinki.conf; systemctl daemon-reload; systemctl enable --now rinkid"
	@echo "  web console (web.listen in rinki.conf): useradd --system --user-group rinki-web;"
	@echo "  usermod -aG rinki rinki-web; rinki-web user add NAME coordinator; systemctl enable --now rinki-web"
