from loyaltylab.cli import main

main()
