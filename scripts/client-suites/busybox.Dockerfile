# busybox:latest and alpine:latest as the client suites use them (a shell and the usual tools), made
# from Debian's static busybox where no registry can be reached. Context: a folder holding `busybox`.
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "mkdir", "-p", "/usr/bin", "/sbin", "/usr/sbin", "/tmp", "/root", "/etc"]
RUN ["/bin/busybox", "--install", "-s"]
RUN echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'root:x:0:' > /etc/group \
 && echo 'nobody:x:65534:65534:nobody:/:/bin/false' >> /etc/passwd
CMD ["sh"]
