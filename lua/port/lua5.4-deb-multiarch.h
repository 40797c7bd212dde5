/* Debian's patch to luaconf.h includes this for its C-module search path;
 * the hypervisor loads no C modules, so any value does. */
#define DEB_HOST_MULTIARCH "x86_64-none"
