module example.com/go-sample

go 1.19
