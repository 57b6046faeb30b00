/*
 * libFuzzer target for rinki-flash's image-file parser (load_images() in tools/rinki-flash.c,
 * used by `flash` and `check` before anything else): the input is the file, handed over as a
 * memfd. Inputs of odd length are parsed as they are, so the CRC and structure rejections are
 * covered; inputs of even length first get their header and payload CRC32s fixed up where the
 * parser will look for them, so mutations reach the checks behind the CRCs (lengths, stray
 * bytes, several images, mixed board ids). Checks on a file the parser accepts: 1..MAX_IMAGES
 * images, each payload inside the file, and headers plus payloads cover the file exactly.
 * Build: make fw-fuzz; run: build/fw/fuzz/fuzz_fw_flash_image -close_fd_mask=2 (the parser
 * reports every rejection on stderr).
 */
#define main rf_main
#include "../../tools/rinki-flash.c"
#undef main

#include <sys/mman.h>

/* Walk the images as load_images() does and make their CRC fields right. */
static void fix_crcs(uint8_t *d, size_t n)
{
	size_t off = 0;

	for (int i = 0; i < MAX_IMAGES && n - off >= RINKI_FWIMAGE_HDR_SIZE; i++) {
		struct rinki_fwimage_hdr h;
		memcpy(&h, d + off, sizeof(h));
		size_t room = n - off - RINKI_FWIMAGE_HDR_SIZE;
		if (h.length <= room)
			h.payload_crc = rinki_crc32(0, d + off + RINKI_FWIMAGE_HDR_SIZE, h.length);
		h.hdr_crc = rinki_crc32(0, &h, offsetof(struct rinki_fwimage_hdr, hdr_crc));
		memcpy(d + off, &h, sizeof(h));
		if (h.length > room)
			return;
		off += RINKI_FWIMAGE_HDR_SIZE + h.length;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct image_file f;

	if (size > MAX_FILE)
		return 0;
	if (fd < 0) {
		fd = memfd_create("rinki-image", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	if (size % 2 == 0)
		fix_crcs(copy, size);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, copy, size, 0) != (ssize_t)size)
		abort();
	free(copy);

	if (load_images(path, &f) == 0) {
		size_t covered = 0;
		if (f.n < 1 || f.n > MAX_IMAGES)
			abort();
		for (int i = 0; i < f.n; i++) {
			const struct image *im = &f.img[i];
			if (im->payload < f.data || im->payload + im->hdr.length > f.data + f.len)
				abort();
			if (im->hdr.board_id != f.img[0].hdr.board_id)
				abort();
			covered += RINKI_FWIMAGE_HDR_SIZE + im->hdr.length;
		}
		if (covered != f.len)
			abort();
	}
	free(f.data);
	return 0;
}
