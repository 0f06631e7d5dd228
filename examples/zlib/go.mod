module example.com/envsnap/zlib

go 1.21
